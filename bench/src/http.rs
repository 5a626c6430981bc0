//! One keep-alive HTTP/1.1 connection per virtual user (hyper's low-level client over a
//! plain TCP stream): no pool, no redirects followed behind the generator's back.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// How long one request may take before it counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A response read to the end.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Response {
    pub(crate) fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    pub(crate) fn set_cookies(&self) -> impl Iterator<Item = &str> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
    }

    pub(crate) fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("")
    }
}

/// Why a request got no response.
#[derive(Debug)]
pub(crate) enum HttpError {
    Connect(String),
    Io(String),
    Timeout,
}

impl HttpError {
    /// The error kind as counted in the figures.
    pub(crate) fn kind(&self) -> String {
        match self {
            Self::Connect(_) => "connect".into(),
            Self::Io(_) => "io".into(),
            Self::Timeout => "timeout".into(),
        }
    }

    pub(crate) fn detail(&self) -> String {
        match self {
            Self::Connect(e) | Self::Io(e) => e.clone(),
            Self::Timeout => format!("no response in {} s", REQUEST_TIMEOUT.as_secs()),
        }
    }
}

/// A request to send: the path (with query), headers and an optional form or JSON body.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) path: &'a str,
    pub(crate) headers: Vec<(header::HeaderName, String)>,
    pub(crate) body: Option<(&'static str, String)>,
}

impl<'a> Call<'a> {
    pub(crate) fn get(path: &'a str) -> Self {
        Self {
            method: Method::GET,
            path,
            headers: Vec::new(),
            body: None,
        }
    }

    pub(crate) fn form(path: &'a str, pairs: &[(&str, &str)]) -> Self {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Self {
            method: Method::POST,
            path,
            headers: Vec::new(),
            body: Some(("application/x-www-form-urlencoded", body)),
        }
    }

    pub(crate) fn json(path: &'a str, value: &serde_json::Value) -> Self {
        Self {
            method: Method::POST,
            path,
            headers: Vec::new(),
            body: Some(("application/json", value.to_string())),
        }
    }

    pub(crate) fn header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn bearer(self, token: &str) -> Self {
        self.header(header::AUTHORIZATION, format!("Bearer {token}"))
    }

    pub(crate) fn basic(self, user: &str, password: &str) -> Self {
        self.header(header::AUTHORIZATION, basic_auth(user, password))
    }
}

/// `Authorization: Basic` with the RFC 6749 §2.3.1 form-encoding of both parts.
pub(crate) fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine as _;
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", enc(user), enc(password));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// One keep-alive connection, reopened when the server closed it; or, spread over several
/// instances of a server, one such connection to each, the requests sent to each in turn.
pub(crate) struct Conn {
    backends: Vec<Backend>,
    /// The backend of the next request.
    next: usize,
    host: HeaderValue,
    /// Connections opened, the first included.
    pub(crate) opened: u64,
}

struct Backend {
    addr: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Conn {
    pub(crate) fn new(addr: SocketAddr) -> Self {
        Self::spread(&[addr], addr)
    }

    /// Requests sent to `addrs` in turn (to `host` alone when `addrs` is empty), each with
    /// `host` in its `Host` header, as behind a load balancer.
    pub(crate) fn spread(addrs: &[SocketAddr], host: SocketAddr) -> Self {
        let addrs = if addrs.is_empty() { &[host][..] } else { addrs };
        Self {
            backends: addrs
                .iter()
                .map(|&addr| Backend { addr, sender: None })
                .collect(),
            next: 0,
            host: HeaderValue::from_str(&host.to_string())
                .unwrap_or_else(|_| HeaderValue::from_static("127.0.0.1")),
            opened: 0,
        }
    }

    /// The backend this request goes to; the next one goes to the next.
    fn take_turn(&mut self) -> usize {
        let i = self.next % self.backends.len();
        self.next = (i + 1) % self.backends.len();
        i
    }

    async fn ready(&mut self, i: usize) -> Result<&mut SendRequest<Full<Bytes>>, HttpError> {
        let backend = &mut self.backends[i];
        if let Some(sender) = &mut backend.sender
            && sender.ready().await.is_err()
        {
            backend.sender = None;
        }
        if backend.sender.is_none() {
            let stream = TcpStream::connect(backend.addr)
                .await
                .map_err(|e| HttpError::Connect(e.to_string()))?;
            stream
                .set_nodelay(true)
                .map_err(|e| HttpError::Connect(e.to_string()))?;
            let (sender, connection) = http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| HttpError::Connect(e.to_string()))?;
            tokio::spawn(async move {
                // The connection ends when the sender is dropped or the server closes it;
                // a request on it then reports the error.
                let _ = connection.await;
            });
            self.opened += 1;
            backend.sender = Some(sender);
        }
        backend
            .sender
            .as_mut()
            .ok_or_else(|| HttpError::Connect("no connection".into()))
    }

    /// Sends one request and reads the whole response.
    pub(crate) async fn send(
        &mut self,
        call: Call<'_>,
        cookie: Option<&str>,
    ) -> Result<Response, HttpError> {
        let i = self.take_turn();
        match tokio::time::timeout(REQUEST_TIMEOUT, self.send_inner(i, call, cookie)).await {
            Ok(result) => {
                if result.is_err() {
                    self.backends[i].sender = None;
                }
                result
            }
            Err(_) => {
                self.backends[i].sender = None;
                Err(HttpError::Timeout)
            }
        }
    }

    async fn send_inner(
        &mut self,
        i: usize,
        call: Call<'_>,
        cookie: Option<&str>,
    ) -> Result<Response, HttpError> {
        let host = self.host.clone();
        let sender = self.ready(i).await?;
        let mut builder = Request::builder()
            .method(call.method)
            .uri(call.path)
            .header(header::HOST, host);
        for (name, value) in call.headers {
            builder = builder.header(name, value);
        }
        if let Some(cookie) = cookie.filter(|c| !c.is_empty()) {
            builder = builder.header(header::COOKIE, cookie);
        }
        let body = match call.body {
            Some((content_type, body)) => {
                builder = builder.header(header::CONTENT_TYPE, content_type);
                Full::new(Bytes::from(body))
            }
            None => Full::new(Bytes::new()),
        };
        let request = builder
            .body(body)
            .map_err(|e| HttpError::Io(format!("building the request: {e}")))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| HttpError::Io(e.to_string()))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| HttpError::Io(e.to_string()))?
            .to_bytes();
        let closing = parts
            .headers
            .get(header::CONNECTION)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
        if closing {
            self.backends[i].sender = None;
        }
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_encodes_both_parts() {
        // "demo-client:s3cr%2Bt" (the + form-encoded), base64.
        assert_eq!(
            basic_auth("demo-client", "s3cr+t"),
            "Basic ZGVtby1jbGllbnQ6czNjciUyQnQ="
        );
    }

    #[test]
    fn a_spread_connection_takes_the_instances_in_turn() -> anyhow::Result<()> {
        let a: SocketAddr = "127.0.0.1:1".parse()?;
        let b: SocketAddr = "127.0.0.1:2".parse()?;
        let mut conn = Conn::spread(&[a, b], a);
        let turns: Vec<usize> = (0..5).map(|_| conn.take_turn()).collect();
        assert_eq!(turns, [0, 1, 0, 1, 0]);
        assert_eq!(conn.host, "127.0.0.1:1");
        let mut single = Conn::new(b);
        assert_eq!((single.take_turn(), single.take_turn()), (0, 0));
        Ok(())
    }
}
