//! HTTP/1.1 keep-alive connections (hyper's connection API): exactly one TCP connection per caller, redialled only
//! when it breaks, and requests built from a template that never changes during a run.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::load::Caller;

/// A whole answer: status, headers and body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// One keep-alive connection to `addr`, dialled on first use and again after it breaks.
pub struct Connection {
    addr: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    pub fn new(addr: SocketAddr) -> Self {
        Self { addr, sender: None }
    }

    /// Sends `request` and reads the whole answer; an error is a short description of what failed.
    pub async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<Answer, String> {
        let sender = self.ready().await?;
        let response = match sender.send_request(request).await {
            Ok(response) => response,
            Err(error) => {
                self.sender = None;
                return Err(describe("request", &error));
            }
        };
        let (parts, body) = response.into_parts();
        match body.collect().await {
            Ok(body) => Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body: body.to_bytes(),
            }),
            Err(error) => {
                self.sender = None;
                Err(describe("body", &error))
            }
        }
    }

    /// Forgets the connection, so the next request dials a new one.
    pub fn drop_connection(&mut self) {
        self.sender = None;
    }

    async fn ready(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, String> {
        let mut sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => dial(self.addr).await?,
        };
        sender
            .ready()
            .await
            .map_err(|error| describe("connection", &error))?;
        Ok(self.sender.insert(sender))
    }
}

async fn dial(addr: SocketAddr) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = match TcpStream::connect(addr).await {
        Ok(stream) => stream,
        Err(error) => {
            // A target that is down refuses at once; pause so a dead target is not hammered in a tight loop.
            tokio::time::sleep(Duration::from_millis(20)).await;
            return Err(format!("connect: {}", error.kind()));
        }
    };
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| describe("handshake", &error))?;
    // The connection ends by itself once the sender is dropped.
    tokio::spawn(connection);
    Ok(sender)
}

fn describe(stage: &str, error: &hyper::Error) -> String {
    if error.is_timeout() {
        format!("{stage}: timeout")
    } else if error.is_incomplete_message() || error.is_closed() || error.is_canceled() {
        format!("{stage}: connection closed")
    } else {
        format!("{stage}: {error}")
    }
}

/// What a request's body is made of.
#[derive(Debug)]
pub enum Body {
    Empty,
    Fixed(Bytes),
    /// A sign-up with an email no other request of the run uses.
    SignUp {
        run_id: String,
        password: String,
        counter: AtomicU64,
    },
}

impl Body {
    fn bytes(&self) -> Bytes {
        match self {
            Body::Empty => Bytes::new(),
            Body::Fixed(bytes) => bytes.clone(),
            Body::SignUp {
                run_id,
                password,
                counter,
            } => {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                Bytes::from(
                    serde_json::json!({
                        "name": "Bench User",
                        "email": format!("su-{run_id}-{n}@bench.example.com"),
                        "password": password,
                    })
                    .to_string(),
                )
            }
        }
    }
}

/// The request a scenario repeats, and the status that counts as success.
#[derive(Debug)]
pub struct Template {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Body,
    pub expect: StatusCode,
}

impl Template {
    /// A template with `Host` set, plus `Origin` and a JSON content type when it has a body.
    pub fn new(
        method: Method,
        path: &str,
        authority: &str,
        origin: &str,
        body: Body,
        expect: StatusCode,
    ) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, header_value(authority));
        if method != Method::GET {
            headers.insert(header::ORIGIN, header_value(origin));
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        Self {
            method,
            uri: path.parse().unwrap_or_default(),
            headers,
            body,
            expect,
        }
    }

    pub fn with_cookie(mut self, cookie: &str) -> Self {
        self.headers.insert(header::COOKIE, header_value(cookie));
        self
    }

    pub fn request(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.bytes()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// A header value from text the tool or the target produced; anything unprintable is dropped rather than sent.
pub fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Repeats a [`Template`] on one connection.
pub struct HttpCaller {
    connection: Connection,
    template: Arc<Template>,
}

impl HttpCaller {
    pub fn new(addr: SocketAddr, template: Arc<Template>) -> Self {
        Self {
            connection: Connection::new(addr),
            template,
        }
    }
}

impl Caller for HttpCaller {
    async fn call(&mut self, _seq: u64) -> Result<(), String> {
        let answer = self.connection.send(self.template.request()).await?;
        if answer.status == self.template.expect {
            Ok(())
        } else {
            Err(format!("HTTP {}", answer.status.as_u16()))
        }
    }

    fn reset(&mut self) {
        self.connection.drop_connection();
    }
}
