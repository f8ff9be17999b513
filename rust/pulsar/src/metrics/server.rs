//! The HTTP endpoints (`/metrics`, `/healthz`) on a thread of their own, and a minimal client for them.
//!
//! It must never block or slow the pulse loop (it copies the snapshot the loop publishes) nor grow with what
//! clients do: one connection at a time, a request head of at most [`MAX_REQUEST_HEAD`] bytes within
//! [`CONNECTION_DEADLINE`], further clients waiting in the kernel's listen backlog.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{health, render, render_openmetrics, METRICS_CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE};
use crate::daemon::{ShutdownHandle, StatsHandle};
use crate::PulsarError;

/// The longest request head (request line and headers) read from one client; longer requests get `431`.
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// How long one client may take to send its request and read the answer, in all.
pub const CONNECTION_DEADLINE: Duration = Duration::from_secs(2);

/// How often the server thread looks at its stop flag while no client connects.
const ACCEPT_POLL: Duration = Duration::from_millis(50);

/// The HTTP endpoints, served from a thread of their own until dropped or [`MetricsServer::stop`]ped.
#[derive(Debug)]
pub struct MetricsServer {
    address: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Binds `address` (`IP:PORT`) and starts serving `stats`; `shutdown` tells the health check the daemon is
    /// stopping.
    pub fn start(
        address: &str,
        stats: StatsHandle,
        shutdown: ShutdownHandle,
    ) -> Result<MetricsServer, PulsarError> {
        let invalid = |message: String| PulsarError::InvalidSetting {
            setting: "metricsAddress".into(),
            message,
        };
        let wanted: SocketAddr = address
            .parse()
            .map_err(|_| invalid(format!("{address:?} is not IP:PORT")))?;
        let listener = TcpListener::bind(wanted).map_err(|e| {
            PulsarError::Io(std::io::Error::new(
                e.kind(),
                format!("cannot listen on {address} (metricsAddress): {e}"),
            ))
        })?;
        listener.set_nonblocking(true)?;
        let bound = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("pulsard-metrics".into())
            .spawn(move || serve(&listener, &flag, &stats, &shutdown))?;
        Ok(MetricsServer {
            address: bound,
            stop,
            thread: Some(thread),
        })
    }

    /// The address actually bound (port 0 shows its chosen port here).
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Stops serving and waits for the thread (at most about [`CONNECTION_DEADLINE`]).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.halt();
    }
}

fn serve(
    listener: &TcpListener,
    stop: &AtomicBool,
    stats: &StatsHandle,
    shutdown: &ShutdownHandle,
) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                // A client's failure (reset, timeout) concerns that client alone.
                let _ = answer(stream, stats, shutdown);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(ACCEPT_POLL),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // Out of descriptors and the like: wait rather than spin.
            Err(_) => std::thread::sleep(ACCEPT_POLL),
        }
    }
}

/// Reads one request head (bounded in size and time) and answers it; the connection is then closed.
fn answer(
    mut stream: TcpStream,
    stats: &StatsHandle,
    shutdown: &ShutdownHandle,
) -> std::io::Result<()> {
    let started = Instant::now();
    stream.set_nonblocking(false)?;
    stream.set_write_timeout(Some(CONNECTION_DEADLINE))?;
    let mut head = [0u8; MAX_REQUEST_HEAD];
    let mut len = 0;
    let complete = loop {
        if head[..len].windows(4).any(|w| w == b"\r\n\r\n") {
            break true;
        }
        if len == head.len() {
            break false;
        }
        let left = CONNECTION_DEADLINE.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Ok(());
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut head[len..]) {
            Ok(0) => return Ok(()),
            Ok(n) => len += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Ok(()),
        }
    };
    if !complete {
        return respond(&mut stream, 431, "text/plain", "request head too large\n");
    }
    let request_line = head[..len]
        .split(|b| *b == b'\r')
        .next()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    if method != "GET" {
        return respond(&mut stream, 405, "text/plain", "only GET\n");
    }
    let snapshot = stats.snapshot();
    let wants_openmetrics = String::from_utf8_lossy(&head[..len])
        .to_ascii_lowercase()
        .lines()
        .any(|h| h.starts_with("accept:") && h.contains("application/openmetrics-text"));
    match path {
        "/metrics" => {
            let (text, content_type) = if wants_openmetrics {
                (render_openmetrics(&snapshot), OPENMETRICS_CONTENT_TYPE)
            } else {
                (render(&snapshot), METRICS_CONTENT_TYPE)
            };
            match text {
                Ok(text) => respond(&mut stream, 200, content_type, &text),
                Err(_) => respond(&mut stream, 500, "text/plain", "encoding failed\n"),
            }
        }
        "/healthz" => {
            let (status, body) = health(&snapshot, shutdown.is_shutdown());
            respond(&mut stream, status, "text/plain; charset=utf-8", &body)
        }
        _ => respond(
            &mut stream,
            404,
            "text/plain",
            "not found: try /metrics or /healthz\n",
        ),
    }
}

fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    let mut head = String::new();
    let _ = write!(
        head,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

/// Fetches `path` from `address` (`IP:PORT`) over HTTP/1.0 within `timeout`, reading at most `max_body`
/// bytes: the status code and the body. For `pulsard status` and tests.
pub fn http_get(
    address: &str,
    path: &str,
    timeout: Duration,
    max_body: usize,
) -> std::io::Result<(u16, String)> {
    let target: SocketAddr = address.parse().map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{address:?} is not IP:PORT"),
        )
    })?;
    let mut stream = TcpStream::connect_timeout(&target, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n")?;
    let mut raw = Vec::new();
    stream
        .take(u64::try_from(max_body).unwrap_or(u64::MAX))
        .read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response");
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(bad)?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    Ok((status, body.to_string()))
}
