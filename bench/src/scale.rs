//! Measurements of scale beyond whole logins: many browsers waiting on the waiting page's
//! event stream while the app approves them one by one, and the memory pending login
//! requests take.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use hyper::StatusCode;
use serde::Serialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, oneshot};
use tokio::time::Instant;

use crate::cookies::Jar;
use crate::http::{Call, Conn};
use crate::load::scheduled_offset;
use crate::procfs::{self, Memory};
use crate::scenario::{Scenario, Shared, Target, micros, register_device};
use crate::stats::{Summary, Trace, histogram};

/// How long after its approval a waiting page may take to continue before it counts as an
/// error.
pub(crate) const CONTINUE_WITHIN: Duration = Duration::from_secs(5);

/// Browsers brought to the waiting page at once while setting up.
const SETUP_CONCURRENCY: usize = 32;

/// Error kinds kept with an example each.
#[derive(Clone, Debug, Default, Serialize)]
pub(crate) struct Errors {
    pub(crate) count: u64,
    /// Each kind of error: how many, and one example.
    pub(crate) kinds: BTreeMap<String, (u64, String)>,
}

impl Errors {
    fn add(&mut self, kind: &str, example: String) {
        self.count += 1;
        let entry = self
            .kinds
            .entry(kind.to_owned())
            .or_insert_with(|| (0, example));
        entry.0 += 1;
    }
}

/// Browsers on the waiting page, each with its event stream open, approved one at a time:
/// the time from just before the approval is sent to the stream's `continue` event.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct WaitingResult {
    /// Browsers asked to wait.
    pub(crate) browsers: usize,
    /// Of them, those that reached the waiting page with the event stream open.
    pub(crate) waiting: usize,
    pub(crate) setup_s: f64,
    pub(crate) approvals_per_s: f64,
    /// Approval → `event: continue`, for the streams that continued in time.
    pub(crate) latency: Summary,
    pub(crate) errors: Errors,
    /// Nod's memory with every browser waiting.
    pub(crate) server_memory_waiting: Option<Memory>,
}

/// One browser on the waiting page.
struct Waiter {
    id: String,
    challenge: u32,
    device_token: String,
    /// When the stream delivered `event: continue` (dropped when it ended without).
    continued: oneshot::Receiver<Instant>,
}

/// The end of a response's header block in `buf` (the index after `\r\n\r\n`).
pub(crate) fn header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Whether server-sent events read so far hold a `continue` event. The event's field is
/// `event:` with an optional space after the colon.
pub(crate) fn has_continue(buf: &[u8]) -> bool {
    let find = |needle: &[u8]| buf.windows(needle.len()).any(|w| w == needle);
    find(b"event: continue\n") || find(b"event:continue\n")
}

/// Opens the waiting page's event stream (`GET /login/{id}/events` with the browser's
/// cookies) on a connection of its own; answers the stream and what was read after the
/// header block.
async fn open_events(
    addr: SocketAddr,
    id: &str,
    cookie: &str,
) -> anyhow::Result<(TcpStream, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let request = format!(
        "GET /login/{id}/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\
         Cookie: {cookie}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(1024);
    let read_headers = async {
        loop {
            if let Some(end) = header_end(&buf) {
                return Ok(end);
            }
            let mut chunk = [0u8; 1024];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                bail!("the event stream closed before its headers");
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    let end = tokio::time::timeout(Duration::from_secs(30), read_headers)
        .await
        .context("no event stream headers in 30 s")??;
    let head = String::from_utf8_lossy(&buf[..end]);
    if !head.starts_with("HTTP/1.1 200") {
        bail!(
            "event stream: {}",
            head.lines().next().unwrap_or_default().to_owned()
        );
    }
    Ok((stream, buf[end..].to_vec()))
}

/// Reads the stream until `event: continue` and reports when it came.
async fn watch(mut stream: TcpStream, mut buf: Vec<u8>, tell: oneshot::Sender<Instant>) {
    let mut chunk = [0u8; 2048];
    loop {
        if has_continue(&buf) {
            let _ = tell.send(Instant::now());
            return;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        // Keep-alive comments would pile up otherwise; an event line is short.
        if buf.len() > 8192 {
            buf.drain(..buf.len() - 64);
        }
    }
}

/// One browser to the waiting page with its event stream open, with its own person (an
/// app registered for `phone`).
async fn bring_to_wait(shared: &Shared, phone: &str) -> anyhow::Result<Waiter> {
    let addr = shared.target.addr;
    let mut app = Conn::new(addr);
    let device_token = register_device(&mut app, phone).await?;
    let mut browser = Conn::new(addr);
    let mut jar = Jar::default();
    let mut trace = Trace::default();
    let (id, challenge) = shared
        .to_waiting_page(&mut browser, &mut jar, &mut trace, phone, false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (stream, rest) = open_events(addr, &id, &jar.header()).await?;
    let (tell, continued) = oneshot::channel();
    tokio::spawn(watch(stream, rest, tell));
    Ok(Waiter {
        id,
        challenge,
        device_token,
        continued,
    })
}

/// Brings one browser per phone number to the waiting page, then approves them at `rate`
/// per second from the app and times each approval to its page's `continue` event.
pub(crate) async fn waiting(
    target: &Target,
    pid: Option<u32>,
    phones: &[String],
    rate: f64,
) -> anyhow::Result<WaitingResult> {
    anyhow::ensure!(rate > 0.0 && rate.is_finite(), "the rate must be positive");
    let shared = Arc::new(Shared::new(target.clone(), Scenario::Desktop, Vec::new()));
    let mut errors = Errors::default();
    let setup_started = Instant::now();
    let limit = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
    let mut setups = Vec::with_capacity(phones.len());
    for phone in phones {
        let shared = Arc::clone(&shared);
        let limit = Arc::clone(&limit);
        let phone = phone.clone();
        setups.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await;
            bring_to_wait(&shared, &phone).await
        }));
    }
    let mut waiters = Vec::with_capacity(phones.len());
    for setup in setups {
        match setup.await? {
            Ok(w) => waiters.push(w),
            Err(e) => errors.add("setup", e.to_string()),
        }
    }
    let setup_s = setup_started.elapsed().as_secs_f64();
    eprintln!(
        "waiting: {} of {} browsers on the waiting page in {setup_s:.1} s",
        waiters.len(),
        phones.len()
    );
    // Every stream is open; let the server settle before the first approval.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let server_memory_waiting = pid.map(procfs::memory).transpose()?;

    let waiting = waiters.len();
    let pool: Arc<Mutex<Vec<Conn>>> = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now() + Duration::from_millis(20);
    let mut tasks = Vec::with_capacity(waiting);
    for (i, w) in waiters.into_iter().enumerate() {
        tokio::time::sleep_until(start + scheduled_offset(i as u64, rate)).await;
        let pool = Arc::clone(&pool);
        let addr = target.addr;
        tasks.push(tokio::spawn(async move {
            approve_and_time(addr, &pool, w).await
        }));
    }
    let mut latencies = histogram()?;
    for task in tasks {
        match task.await? {
            Ok(us) => latencies.saturating_record(us),
            Err((kind, example)) => errors.add(kind, example),
        }
    }
    let result = WaitingResult {
        browsers: phones.len(),
        waiting,
        setup_s,
        approvals_per_s: rate,
        latency: Summary::of(&latencies),
        errors,
        server_memory_waiting,
    };
    eprintln!(
        "waiting: {} continued, p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms, {} errors",
        result.latency.count,
        result.latency.p50_ms,
        result.latency.p99_ms,
        result.latency.max_ms,
        result.errors.count
    );
    Ok(result)
}

/// Approves one waiting login from its person's app; answers the microseconds from just
/// before the approval was sent to the `continue` event, or an error's kind and detail.
async fn approve_and_time(
    addr: SocketAddr,
    pool: &Mutex<Vec<Conn>>,
    w: Waiter,
) -> Result<u64, (&'static str, String)> {
    let mut conn = pool
        .lock()
        .ok()
        .and_then(|mut p| p.pop())
        .unwrap_or_else(|| Conn::new(addr));
    let path = format!("/app-api/v1/login-requests/{}/approve", w.id);
    let body = json!({"challenge": w.challenge, "remember_browser": false});
    let call = Call::json(&path, &body).bearer(&w.device_token);
    let sent = Instant::now();
    let response = conn.send(call, None).await;
    if let Ok(mut p) = pool.lock() {
        p.push(conn);
    }
    match response {
        Ok(r) if r.status == StatusCode::OK => {}
        Ok(r) => {
            let text: String = r.text().chars().take(200).collect();
            return Err(("approve", format!("status {}: {text}", r.status.as_u16())));
        }
        Err(e) => return Err(("approve", e.detail())),
    }
    match tokio::time::timeout_at(sent + CONTINUE_WITHIN, w.continued).await {
        Ok(Ok(at)) => Ok(micros(at.saturating_duration_since(sent).as_micros())),
        Ok(Err(_)) => Err((
            "stream",
            format!("login {}: the stream ended without continue", w.id),
        )),
        Err(_) => Err((
            "timeout",
            format!(
                "login {}: no continue within {} s",
                w.id,
                CONTINUE_WITHIN.as_secs()
            ),
        )),
    }
}

/// Nod's resident memory idle and with many pending login requests.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct PendingResult {
    /// Login requests created (authorize answered with a login page).
    pub(crate) pending: u64,
    pub(crate) failed: u64,
    pub(crate) seconds: f64,
    pub(crate) idle: Memory,
    pub(crate) with_pending: Memory,
    /// Resident bytes per pending request over the idle process.
    pub(crate) bytes_per_pending: Option<f64>,
}

/// Resident bytes each pending request adds: (with − idle) / count.
pub(crate) fn bytes_per_pending(idle_kib: u64, with_kib: u64, pending: u64) -> Option<f64> {
    (pending > 0).then(|| with_kib.saturating_sub(idle_kib) as f64 * 1024.0 / pending as f64)
}

/// Creates `count` pending login requests with authorize (no cookies), `connections` at a
/// time back to back, and reads Nod's memory before (after an idle moment) and right after.
pub(crate) async fn pending_memory(
    target: &Target,
    pid: u32,
    count: u64,
    connections: usize,
) -> anyhow::Result<PendingResult> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = procfs::memory(pid)?;
    let shared = Arc::new(Shared::new(
        target.clone(),
        Scenario::AuthorizeFlood,
        Vec::new(),
    ));
    let next = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let shared = Arc::clone(&shared);
        let (next, ok, failed) = (Arc::clone(&next), Arc::clone(&ok), Arc::clone(&failed));
        tasks.push(tokio::spawn(async move {
            let mut vu = shared.new_vu().await?;
            while next.fetch_add(1, Ordering::Relaxed) < count {
                let (_, result) = shared.login(&mut vu).await;
                match result {
                    Ok(()) => ok.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let with_pending = procfs::memory(pid)?;
    let pending = ok.load(Ordering::Relaxed);
    let result = PendingResult {
        pending,
        failed: failed.load(Ordering::Relaxed),
        seconds,
        idle,
        with_pending,
        bytes_per_pending: bytes_per_pending(idle.rss_kib, with_pending.rss_kib, pending),
    };
    eprintln!(
        "pending: {} requests in {seconds:.1} s ({} failed); RSS idle {:.1} MiB, with them {:.1} MiB (peak {:.1} MiB)",
        result.pending,
        result.failed,
        idle.rss_kib as f64 / 1024.0,
        with_pending.rss_kib as f64 / 1024.0,
        with_pending.hwm_kib as f64 / 1024.0,
    );
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_end_of_the_header_block() {
        assert_eq!(header_end(b"HTTP/1.1 200 OK\r\n\r\n"), Some(19));
        assert_eq!(
            header_end(b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nevent"),
            Some(25)
        );
        assert_eq!(header_end(b"HTTP/1.1 200 OK\r\n"), None);
    }

    #[test]
    fn spots_the_continue_event_only() {
        assert!(has_continue(
            b"4e\r\nevent: continue\ndata: /login/x/continue\n\n"
        ));
        assert!(has_continue(b"event:continue\ndata: /x\n\n"));
        assert!(!has_continue(b":\n\n"));
        assert!(!has_continue(b"data: event: continued\n"));
        assert!(!has_continue(b"event: contin"));
    }

    #[test]
    fn bytes_per_pending_request() {
        // 10 MiB more for 1,024 requests: 10 KiB each.
        assert_eq!(bytes_per_pending(20_480, 30_720, 1024), Some(10_240.0));
        assert_eq!(bytes_per_pending(100, 50, 10), Some(0.0));
        assert_eq!(bytes_per_pending(1, 2, 0), None);
    }

    #[test]
    fn errors_keep_the_first_example_of_each_kind() {
        let mut e = Errors::default();
        e.add("timeout", "a".into());
        e.add("timeout", "b".into());
        e.add("approve", "c".into());
        assert_eq!(e.count, 3);
        assert_eq!(e.kinds["timeout"], (2, "a".to_owned()));
        assert_eq!(e.kinds["approve"], (1, "c".to_owned()));
    }
}
