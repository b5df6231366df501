//! gRPC between servers in one process (the all-in-one's gateway and its services) over in-memory pipes instead of
//! loopback TCP. It is the same HTTP/2 gRPC as on the network, minus the kernel's work for every read and write,
//! which profiles of the all-in-one showed as the largest single cost of a session read.
//!
//! A server given an [`InProcessListener`] takes these connections beside its TCP ones; a client's
//! [`InProcessPort::channel`] opens a new pipe whenever tonic connects.

use std::{
    io,
    net::{Ipv4Addr, SocketAddr},
    pin::Pin,
    task::{Context, Poll},
};

use hyper_util::rt::TokioIo;
use tokio::{
    io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf},
    net::TcpStream,
    sync::mpsc,
};
use tonic::transport::{
    Channel, Endpoint,
    server::{Connected, TcpConnectInfo},
};

/// Bytes buffered in each direction of a pipe.
const PIPE_BUFFER: usize = 64 * 1024;

/// The URI in-process endpoints carry; nothing resolves or dials it.
pub const URI: &str = "http://in-process.invalid";

/// The client side: hands out channels whose connections are pipes to one server.
#[derive(Clone)]
pub struct InProcessPort {
    connections: mpsc::UnboundedSender<DuplexStream>,
}

/// The server side: the pipes clients opened, to be served beside the TCP listener.
pub struct InProcessListener {
    pub(crate) connections: mpsc::UnboundedReceiver<DuplexStream>,
}

/// A port and the listener that answers it.
pub fn port() -> (InProcessPort, InProcessListener) {
    let (connections, incoming) = mpsc::unbounded_channel();
    (
        InProcessPort { connections },
        InProcessListener {
            connections: incoming,
        },
    )
}

impl InProcessPort {
    /// A lazily connecting channel to the server with `endpoint`'s settings (timeouts; its URI is not dialled); a
    /// connection fails once the server has stopped.
    pub fn channel(&self, endpoint: Endpoint) -> Channel {
        let connections = self.connections.clone();
        endpoint.connect_with_connector_lazy(tower::service_fn(move |_: http::Uri| {
            let connections = connections.clone();
            async move {
                let (client, server) = tokio::io::duplex(PIPE_BUFFER);
                connections.send(server).map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::ConnectionRefused,
                        "the in-process server has stopped",
                    )
                })?;
                Ok::<_, io::Error>(TokioIo::new(client))
            }
        }))
    }
}

/// A connection a gRPC server accepted: over TCP, or a pipe from a client in the same process.
pub enum Connection {
    Tcp(TcpStream),
    InProcess(DuplexStream),
}

impl Connected for Connection {
    type ConnectInfo = TcpConnectInfo;

    /// An in-process client is on this host: it is reported as loopback, which is what it would be over TCP.
    fn connect_info(&self) -> TcpConnectInfo {
        match self {
            Self::Tcp(stream) => stream.connect_info(),
            Self::InProcess(_) => TcpConnectInfo {
                local_addr: None,
                remote_addr: Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
            },
        }
    }
}

impl AsyncRead for Connection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_read(cx, buf),
            Self::InProcess(pipe) => Pin::new(pipe).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_write(cx, buf),
            Self::InProcess(pipe) => Pin::new(pipe).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            Self::InProcess(pipe) => Pin::new(pipe).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Tcp(stream) => stream.is_write_vectored(),
            Self::InProcess(pipe) => pipe.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_flush(cx),
            Self::InProcess(pipe) => Pin::new(pipe).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Tcp(stream) => Pin::new(stream).poll_shutdown(cx),
            Self::InProcess(pipe) => Pin::new(pipe).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };

    use super::*;
    use crate::grpc::{Services, Wiring, grpc_web_cors, serve};

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

    fn endpoint() -> Endpoint {
        Endpoint::from_static(URI).timeout(std::time::Duration::from_secs(5))
    }

    #[tokio::test]
    async fn a_server_answers_its_in_process_port_and_refuses_it_once_stopped() {
        let (port, pipes) = port();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(
            Services::new(Nothing).wired(
                std::time::Duration::ZERO,
                Wiring {
                    in_process: Some(pipes),
                    drain_after: None,
                },
            ),
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            listener,
            grpc_web_cors("http://127.0.0.1", &[]),
            async {
                let _ = stopped.await;
            },
        ));

        // The channel's URI resolves nowhere: an answer can only have come through the pipe.
        let answer = HealthClient::new(port.channel(endpoint()))
            .check(HealthCheckRequest::default())
            .await
            .expect("the health service answers in process")
            .into_inner();
        assert_eq!(answer.status(), ServingStatus::Serving);

        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        let refused = HealthClient::new(port.channel(endpoint()))
            .check(HealthCheckRequest::default())
            .await
            .expect_err("no server behind the port any more");
        assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    }

    #[test]
    fn in_process_clients_are_reported_as_loopback() {
        let (client, _server) = tokio::io::duplex(16);
        let info = Connection::InProcess(client).connect_info();
        assert!(info.remote_addr.unwrap().ip().is_loopback());
    }
}
