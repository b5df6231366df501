//! gRPC between servers in one process (the all-in-one's gateway and its services) without a connection: the
//! client's encoded request is handed to the server's service stack as it is, and the server's encoded response
//! comes back the same way. It is the same gRPC as on the network (protobuf bodies, metadata, status trailers, the
//! same layers and handlers), minus HTTP/2 framing, header compression and the connection tasks on both ends: the
//! two connections' tasks alone were 14 % of the all-in-one's samples in profiles of session reads over in-memory
//! pipes, and loopback TCP cost more before that.
//!
//! A server given an [`InProcessListener`] answers its [`InProcessPort`] while it serves (a call made before it
//! starts waits for it, as a connection waits to be accepted); a client reaches it through a [`Transport`], which is
//! either that port or a network [`Channel`].

use std::{
    convert::Infallible,
    net::{Ipv4Addr, SocketAddr},
    task::{Context, Poll},
};

use futures::{FutureExt, TryFutureExt, future::BoxFuture};
use tokio::sync::watch;
use tonic::{
    body::Body,
    transport::{Channel, server::TcpConnectInfo},
};
use tower::{Service, ServiceExt, util::BoxCloneSyncService};

/// What a client's call may fail with, as tonic clients take it (a [`tonic::Status`] inside is returned as is).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A server's whole service stack, as its TCP connections reach it.
pub(crate) type ServerStack =
    BoxCloneSyncService<http::Request<Body>, http::Response<Body>, Infallible>;

type Answer = BoxFuture<'static, Result<http::Response<Body>, BoxError>>;

/// Where the server behind a port is.
#[derive(Clone)]
enum Server {
    Starting,
    Serving(ServerStack),
    Stopped,
}

/// The client side: calls the server behind it.
#[derive(Clone)]
pub struct InProcessPort {
    server: watch::Receiver<Server>,
}

/// The server side: where a server puts its stack while it serves (see [`crate::grpc::Wiring`]).
pub struct InProcessListener {
    server: watch::Sender<Server>,
}

/// A port and the listener that answers it.
pub fn port() -> (InProcessPort, InProcessListener) {
    let (sender, receiver) = watch::channel(Server::Starting);
    (
        InProcessPort { server: receiver },
        InProcessListener { server: sender },
    )
}

impl InProcessListener {
    /// From now on the port's calls reach `stack`, and those that waited for it go ahead.
    pub(crate) fn open(&self, stack: ServerStack) {
        self.server.send_replace(Server::Serving(stack));
    }

    /// From now on the port's calls are refused as UNAVAILABLE; calls already made finish.
    pub(crate) fn close(&self) {
        self.server.send_replace(Server::Stopped);
    }
}

impl InProcessPort {
    fn call(&self, request: http::Request<Body>) -> Answer {
        let current = self.server.borrow().clone();
        match current {
            Server::Serving(stack) => serve(stack, request),
            Server::Stopped => refused(),
            Server::Starting => {
                let mut server = self.server.clone();
                async move {
                    // A listener dropped before it served counts as stopped.
                    let started = server
                        .wait_for(|server| !matches!(server, Server::Starting))
                        .await
                        .map(|server| server.clone());
                    match started {
                        Ok(Server::Serving(stack)) => serve(stack, request).await,
                        _ => refused().await,
                    }
                }
                .boxed()
            }
        }
    }
}

fn serve(stack: ServerStack, mut request: http::Request<Body>) -> Answer {
    // An in-process client is on this host: it is reported as loopback, which is what it would be over TCP.
    request.extensions_mut().insert(TcpConnectInfo {
        local_addr: None,
        remote_addr: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
    });
    stack
        .oneshot(request)
        .map_err(|never| match never {})
        .boxed()
}

fn refused() -> Answer {
    let refused = tonic::Status::unavailable("the in-process server is not serving");
    futures::future::ready(Err(Box::new(refused) as BoxError)).boxed()
}

/// How a client reaches a gRPC server: over the network, or in process. Tonic's generated clients take it as they
/// take a [`Channel`].
#[derive(Clone)]
pub enum Transport {
    Network(Channel),
    InProcess(InProcessPort),
}

impl Service<http::Request<Body>> for Transport {
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match self {
            Self::Network(channel) => channel.poll_ready(cx).map_err(Into::into),
            Self::InProcess(_) => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        match self {
            Self::Network(channel) => channel.call(request).err_into().boxed(),
            Self::InProcess(port) => port.call(request),
        }
    }
}

#[cfg(test)]
mod tests {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };

    use super::*;
    use crate::grpc::{Services, Wiring, grpc_web_cors, serve as serve_grpc};

    /// A service for the port to carry; health itself is what the test calls.
    #[derive(Clone)]
    struct Nothing;

    impl tonic::server::NamedService for Nothing {
        const NAME: &'static str = "warden.test.Nothing";
    }

    impl tower::Service<http::Request<tonic::body::Body>> for Nothing {
        type Response = http::Response<tonic::body::Body>;
        type Error = std::convert::Infallible;
        type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Request<tonic::body::Body>) -> Self::Future {
            std::future::ready(Ok(tonic::Status::unimplemented("nothing").into_http()))
        }
    }

    #[tokio::test]
    async fn a_call_waits_for_its_server_to_start_and_is_refused_once_it_stopped() {
        let (port, listener) = port();
        let client = HealthClient::new(Transport::InProcess(port));
        // Made before the server serves: it waits, as a connection waits to be accepted.
        let early = tokio::spawn({
            let mut client = client.clone();
            async move { client.check(HealthCheckRequest::default()).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!early.is_finished(), "answered before any server served");

        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_grpc(
            Services::new(Nothing).wired(
                std::time::Duration::ZERO,
                Wiring {
                    in_process: Some(listener),
                    drain_after: None,
                },
            ),
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tcp,
            grpc_web_cors(crate::settings::TrustedOrigins::parse("http://127.0.0.1").unwrap()),
            async {
                let _ = stopped.await;
            },
        ));
        let answer = early
            .await
            .unwrap()
            .expect("the waiting call is answered once the server serves");
        assert_eq!(answer.into_inner().status(), ServingStatus::Serving);

        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        let refused = client
            .clone()
            .check(HealthCheckRequest::default())
            .await
            .expect_err("no server behind the port any more");
        assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    }

    #[tokio::test]
    async fn a_call_to_a_server_that_never_served_is_refused() {
        let (port, listener) = port();
        drop(listener);
        let refused = HealthClient::new(Transport::InProcess(port))
            .check(HealthCheckRequest::default())
            .await
            .expect_err("nothing will ever answer");
        assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    }

    #[tokio::test]
    async fn an_in_process_caller_is_seen_as_loopback() {
        let (port, listener) = port();
        // A stack that answers with the peer it was told of.
        listener.open(BoxCloneSyncService::new(tower::service_fn(
            |request: http::Request<Body>| async move {
                let peer = request
                    .extensions()
                    .get::<TcpConnectInfo>()
                    .and_then(|info| info.remote_addr)
                    .map_or("none".to_owned(), |addr| addr.ip().to_string());
                let mut answer = http::Response::new(Body::empty());
                answer.headers_mut().insert("x-peer", peer.parse().unwrap());
                Ok::<_, Infallible>(answer)
            },
        )));
        let answer = Transport::InProcess(port)
            .oneshot(http::Request::new(Body::empty()))
            .await
            .unwrap();
        assert_eq!(answer.headers()["x-peer"], "127.0.0.1");
    }
}
