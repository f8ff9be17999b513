//! `io_floor`: the least CPU a single-threaded daemon can spend per grant on this machine, for this protocol's
//! message pattern over loopback TCP — measured, so that the CPU target of `pulse_bench --case 3` (issue 7:
//! at most 30 µs of daemon CPU per grant) can be set against what the kernel alone costs.
//!
//! ```text
//! cargo run --release -p publisher-pulsar --example io_floor -- [--workers 200] [--n 100] [--period-ms 10]
//!     [--seconds 10] [--warmup 2]
//! ```
//!
//! It is a yardstick, not a daemon: one server thread, one epoll (`mio`, edge-triggered, every connection
//! registered once for reading and writing, so no `epoll_ctl` per message), persistent connections, frames laid
//! out as ZMTP's short frames (`[flags][length][body]`) with the real message bodies (the golden vectors). It
//! leaves out everything a real daemon must do besides moving bytes: no ZMTP handshake, no CURVE, no access
//! control, no parsing of the bodies, no logging, no metrics, no limits. Its rule is the least that keeps the
//! same traffic: admit up to N ahead of the next pulse, release up to N minus the slots still acting once per
//! period to the workers that are subscribed and ready, a result frees its slot. Each grant costs the seven
//! messages it costs with `pulsard`: request, reply, subscribe, ready, pulse, unsubscribe, result. So its CPU
//! per grant is a floor that a native I/O path in `pulsard` could approach but not go below.
//!
//! The workers are threads of this process with blocking sockets (three connections each, as a real worker's
//! REQ, SUB and PUSH sockets), looping request → reply → subscribe → ready → pulse → unsubscribe → result.
//!
//! Output, one line of `key=value` pairs: the configuration, grants in the measured span, utilisation of N per
//! period, the server thread's CPU per grant (`/proc/<pid>/task/<tid>/schedstat`, nanoseconds on CPU), the
//! whole process's CPU per grant, and the machine's idle share during the span (`/proc/stat`). It asserts
//! nothing and its numbers depend on the machine; it must never be taken for a test.

use std::collections::VecDeque;
use std::io::{self, BufReader, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

#[path = "shared/machine.rs"]
mod machine;
use machine::{idle_pct, machine_jiffies};

const REQUEST: &[u8] = include_bytes!("../../wire/tests/vectors/01_PreparingRequestDto.bin");
const REPLY: &[u8] = include_bytes!("../../wire/tests/vectors/02_BecomeTheSubscriberReplyDto.bin");
const PULSE: &[u8] = include_bytes!("../../wire/tests/vectors/03_PublisherToSubscribersDto.bin");
const READY: &[u8] = include_bytes!("../../wire/tests/vectors/05_ReadyToGetSubscriptionMsg.bin");
const RESULT: &[u8] =
    include_bytes!("../../wire/tests/vectors/08_ActionResultingPushDto_success.bin");
const SUBSCRIBE: &[u8] = &[1];
const UNSUBSCRIBE: &[u8] = &[0];

/// Listener tokens; connections are numbered from `FIRST_CONN`.
const LISTENERS: [Kind; 3] = [Kind::Admission, Kind::Publish, Kind::Pull];
const FIRST_CONN: usize = LISTENERS.len();

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Admission,
    Publish,
    Pull,
}

/// One ZMTP-style short frame: a flags byte (0: last frame, short), a length byte, the body.
fn frame(body: &[u8]) -> Result<Vec<u8>, String> {
    let len = u8::try_from(body.len()).map_err(|_| format!("body of {} bytes", body.len()))?;
    let mut out = Vec::with_capacity(body.len() + 2);
    out.extend_from_slice(&[0, len]);
    out.extend_from_slice(body);
    Ok(out)
}

#[derive(Clone, Debug)]
struct Settings {
    workers: usize,
    n: usize,
    period: Duration,
    seconds: f64,
    warmup: f64,
}

fn parse_args() -> Result<Settings, String> {
    let mut settings = Settings {
        workers: 200,
        n: 100,
        period: Duration::from_millis(10),
        seconds: 10.0,
        warmup: 2.0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--workers" => settings.workers = value.parse().map_err(|e| bad(&e))?,
            "--n" => settings.n = value.parse().map_err(|e| bad(&e))?,
            "--period-ms" => {
                settings.period = Duration::from_millis(value.parse().map_err(|e| bad(&e))?)
            }
            "--seconds" => settings.seconds = value.parse().map_err(|e| bad(&e))?,
            "--warmup" => settings.warmup = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if settings.workers == 0 || settings.workers > usize::from(u16::MAX) || settings.n == 0 {
        return Err("--workers must be 1..65535 and --n at least 1".into());
    }
    Ok(settings)
}

fn main() {
    match run() {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("io_floor: {e}");
            std::process::exit(1);
        }
    }
}

fn run() -> Result<String, String> {
    let settings = parse_args()?;
    let stop = Arc::new(AtomicBool::new(false));
    let grants = Arc::new(AtomicU64::new(0));

    let mut server = Server::bind(&settings)?;
    let addrs = server.addrs;
    let (tid_tx, tid_rx) = mpsc::channel();
    let server_thread = {
        let stop = Arc::clone(&stop);
        let grants = Arc::clone(&grants);
        // Named so that `perf record -t` can find it in /proc/PID/task/*/comm.
        thread::Builder::new()
            .name("floor-server".into())
            .spawn(move || {
                let _ = tid_tx.send(std::fs::read_link("/proc/thread-self"));
                server.serve(&stop, &grants)
            })
            .map_err(|e| format!("cannot start the server thread: {e}"))?
    };
    let task = tid_rx
        .recv_timeout(Duration::from_secs(5))
        .map_err(|e| format!("server thread did not start: {e}"))?
        .map_err(|e| format!("cannot read /proc/thread-self: {e}"))?;
    let server_schedstat = format!("/proc/{}/schedstat", task.display());

    let workers: Vec<_> = (0..settings.workers)
        .map(|id| {
            let stop = Arc::clone(&stop);
            thread::spawn(move || worker(id, addrs, &stop))
        })
        .collect();

    thread::sleep(Duration::from_secs_f64(settings.warmup));
    let start = Snapshot::take(&server_schedstat, &grants)?;
    thread::sleep(Duration::from_secs_f64(settings.seconds));
    let end = Snapshot::take(&server_schedstat, &grants)?;

    stop.store(true, Ordering::SeqCst);
    let served = server_thread
        .join()
        .map_err(|_| "server thread panicked".to_string())?;
    let mut worker_errors = 0;
    for handle in workers {
        match handle.join() {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => worker_errors += 1,
        }
    }
    served?;

    let span = end.at.duration_since(start.at).as_secs_f64();
    let granted = end.grants.saturating_sub(start.grants);
    let per_grant = |ns: u64| ns as f64 / 1000.0 / granted.max(1) as f64;
    let limit = settings.n as f64 / settings.period.as_secs_f64();
    Ok(format!(
        "io_floor workers={} n={} period_ms={} seconds={span:.2} grants={granted} grants_per_s={:.1} \
         utilisation_pct={:.1} server_cpu_per_grant_us={:.1} process_cpu_per_grant_us={:.1} \
         machine_idle_pct={:.1} worker_errors={worker_errors}",
        settings.workers,
        settings.n,
        settings.period.as_millis(),
        granted as f64 / span,
        100.0 * granted as f64 / span / limit,
        per_grant(end.server_ns.saturating_sub(start.server_ns)),
        per_grant(end.process_ns.saturating_sub(start.process_ns)),
        idle_pct(start.machine, end.machine),
    ))
}

/// CPU counters and the grant count at one instant.
struct Snapshot {
    at: Instant,
    grants: u64,
    server_ns: u64,
    process_ns: u64,
    /// (busy, total) jiffies of the machine.
    machine: (u64, u64),
}

impl Snapshot {
    fn take(server_schedstat: &str, grants: &AtomicU64) -> Result<Self, String> {
        let machine = machine_jiffies()?;
        Ok(Snapshot {
            at: Instant::now(),
            grants: grants.load(Ordering::SeqCst),
            server_ns: on_cpu_ns(server_schedstat)?,
            process_ns: process_on_cpu_ns()?,
            machine,
        })
    }
}

/// The first field of a `schedstat` file: nanoseconds spent on a CPU.
fn on_cpu_ns(path: &str) -> Result<u64, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    text.split_whitespace()
        .next()
        .and_then(|f| f.parse().ok())
        .ok_or(format!("malformed {path}"))
}

/// The sum over this process's live threads.
fn process_on_cpu_ns() -> Result<u64, String> {
    let tasks =
        std::fs::read_dir("/proc/self/task").map_err(|e| format!("cannot list tasks: {e}"))?;
    let mut sum = 0;
    for task in tasks.flatten() {
        // A thread may end between the listing and the read: it then simply no longer counts.
        if let Ok(ns) = on_cpu_ns(&format!("{}/schedstat", task.path().display())) {
            sum += ns;
        }
    }
    Ok(sum)
}

/// A worker: three blocking connections, the seven messages of one grant in a loop until told to stop (or
/// the server closes its connections, which is how a stopped server ends a worker blocked in a read).
fn worker(id: usize, addrs: [SocketAddr; 3], stop: &AtomicBool) -> Result<(), String> {
    let connect = |addr: SocketAddr| -> Result<std::net::TcpStream, String> {
        let stream =
            std::net::TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        Ok(stream)
    };
    let (mut admission, mut subscription, mut push) =
        (connect(addrs[0])?, connect(addrs[1])?, connect(addrs[2])?);
    let (request, subscribe, ready, unsubscribe, result) = (
        frame(REQUEST)?,
        frame(SUBSCRIBE)?,
        frame(READY)?,
        frame(UNSUBSCRIBE)?,
        frame(RESULT)?,
    );
    let id = u16::try_from(id).map_err(|_| "worker id over 65535")?;
    let hello = frame(&id.to_be_bytes())?;
    for stream in [&mut admission, &mut subscription, &mut push] {
        stream.write_all(&hello).map_err(|e| e.to_string())?;
    }
    let mut replies = BufReader::new(admission.try_clone().map_err(|e| e.to_string())?);
    let mut pulses = BufReader::new(subscription.try_clone().map_err(|e| e.to_string())?);
    let mut cycle = || -> io::Result<()> {
        admission.write_all(&request)?;
        read_frame(&mut replies)?;
        subscription.write_all(&subscribe)?;
        push.write_all(&ready)?;
        read_frame(&mut pulses)?;
        subscription.write_all(&unsubscribe)?;
        push.write_all(&result)
    };
    while !stop.load(Ordering::Relaxed) {
        if let Err(e) = cycle() {
            return if stop.load(Ordering::Relaxed) {
                Ok(())
            } else {
                Err(e.to_string())
            };
        }
    }
    Ok(())
}

fn read_frame(reader: &mut impl Read) -> io::Result<()> {
    let mut head = [0u8; 2];
    reader.read_exact(&mut head)?;
    let mut body = [0u8; 256];
    reader.read_exact(&mut body[..usize::from(head[1])])
}

/// One accepted connection: which listener it came from, whose it is (known from its first frame), and the
/// bytes read but not yet framed and written but not yet taken by the kernel.
struct Conn {
    stream: TcpStream,
    kind: Kind,
    worker: Option<usize>,
    inbox: Vec<u8>,
    outbox: Vec<u8>,
}

#[derive(Default, Clone)]
struct Worker {
    admission: Option<Token>,
    publish: Option<Token>,
    subscribed: bool,
    ready: bool,
    acting: bool,
}

struct Server {
    poll: Poll,
    listeners: Vec<TcpListener>,
    addrs: [SocketAddr; 3],
    conns: Vec<Option<Conn>>,
    workers: Vec<Worker>,
    queue: VecDeque<usize>,
    ready: VecDeque<usize>,
    admitted: usize,
    acting: usize,
    n: usize,
    period: Duration,
    reply: Vec<u8>,
    pulse: Vec<u8>,
}

impl Server {
    fn bind(settings: &Settings) -> Result<Self, String> {
        let poll = Poll::new().map_err(|e| format!("epoll: {e}"))?;
        let mut listeners = Vec::new();
        let mut addrs = Vec::new();
        for (i, _) in LISTENERS.iter().enumerate() {
            let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
            let mut listener = TcpListener::bind(loopback).map_err(|e| format!("bind: {e}"))?;
            poll.registry()
                .register(&mut listener, Token(i), Interest::READABLE)
                .map_err(|e| format!("register: {e}"))?;
            addrs.push(listener.local_addr().map_err(|e| e.to_string())?);
            listeners.push(listener);
        }
        let addrs: [SocketAddr; 3] = addrs.try_into().map_err(|_| "three listeners")?;
        Ok(Server {
            poll,
            listeners,
            addrs,
            conns: Vec::new(),
            workers: vec![Worker::default(); settings.workers],
            queue: VecDeque::new(),
            ready: VecDeque::new(),
            admitted: 0,
            acting: 0,
            n: settings.n,
            period: settings.period,
            reply: frame(REPLY)?,
            pulse: frame(PULSE)?,
        })
    }

    fn serve(&mut self, stop: &AtomicBool, grants: &AtomicU64) -> Result<(), String> {
        let mut events = Events::with_capacity(1024);
        let mut next_pulse = Instant::now();
        let mut scratch = vec![0u8; 64 * 1024];
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            // Sleep until the next pulse may leave if someone is waiting for it, else until traffic; never
            // longer than 100 ms, so that a stop is seen.
            let timeout = if !self.ready.is_empty() && self.acting < self.n {
                next_pulse.saturating_duration_since(now)
            } else {
                Duration::from_millis(100)
            };
            self.poll
                .poll(&mut events, Some(timeout))
                .map_err(|e| format!("epoll_wait: {e}"))?;
            for event in events.iter() {
                let Token(t) = event.token();
                if t < FIRST_CONN {
                    self.accept(t)?;
                    continue;
                }
                if event.is_writable() {
                    self.flush(t);
                }
                if event.is_readable() || event.is_read_closed() {
                    self.read(t, &mut scratch);
                }
            }
            let now = Instant::now();
            if now >= next_pulse && !self.ready.is_empty() && self.acting < self.n {
                let released = self.release();
                grants.fetch_add(released as u64, Ordering::Relaxed);
                next_pulse = now + self.period;
            }
            self.admit();
        }
        Ok(())
    }

    fn accept(&mut self, listener: usize) -> Result<(), String> {
        loop {
            match self.listeners[listener].accept() {
                Ok((mut stream, _)) => {
                    stream.set_nodelay(true).map_err(|e| e.to_string())?;
                    let token = Token(FIRST_CONN + self.conns.len());
                    self.poll
                        .registry()
                        .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
                        .map_err(|e| format!("register: {e}"))?;
                    self.conns.push(Some(Conn {
                        stream,
                        kind: LISTENERS[listener],
                        worker: None,
                        inbox: Vec::new(),
                        outbox: Vec::new(),
                    }));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(format!("accept: {e}")),
            }
        }
    }

    /// Reads what the kernel holds for this connection and handles every whole frame. A read shorter than the
    /// buffer means the socket was drained: with edge-triggered epoll, bytes that arrive later raise a new
    /// event, so the extra read that would only return `WouldBlock` is skipped.
    fn read(&mut self, token: usize, scratch: &mut [u8]) {
        let Some(conn) = self.conns[token - FIRST_CONN].as_mut() else {
            return;
        };
        let mut closed = false;
        loop {
            match conn.stream.read(scratch) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(got) => {
                    conn.inbox.extend_from_slice(&scratch[..got]);
                    if got < scratch.len() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        let inbox = std::mem::take(&mut conn.inbox);
        let mut at = 0;
        while inbox.len() >= at + 2 && inbox.len() >= at + 2 + usize::from(inbox[at + 1]) {
            let end = at + 2 + usize::from(inbox[at + 1]);
            self.handle(token, &inbox[at + 2..end]);
            at = end;
        }
        if let Some(conn) = self.conns[token - FIRST_CONN].as_mut() {
            conn.inbox = inbox[at..].to_vec();
        }
        if closed {
            self.conns[token - FIRST_CONN] = None;
        }
    }

    fn handle(&mut self, token: usize, body: &[u8]) {
        let Some(conn) = self.conns[token - FIRST_CONN].as_mut() else {
            return;
        };
        let Some(w) = conn.worker else {
            // The first frame names the worker.
            if let [hi, lo] = body {
                let w = usize::from(u16::from_be_bytes([*hi, *lo]));
                if w < self.workers.len() {
                    conn.worker = Some(w);
                    match conn.kind {
                        Kind::Admission => self.workers[w].admission = Some(Token(token)),
                        Kind::Publish => self.workers[w].publish = Some(Token(token)),
                        Kind::Pull => {}
                    }
                }
            }
            return;
        };
        match conn.kind {
            Kind::Admission => self.queue.push_back(w),
            Kind::Publish => {
                let subscribed = body.first() == Some(&1);
                self.workers[w].subscribed = subscribed;
                if subscribed && self.workers[w].ready {
                    self.ready.push_back(w);
                }
            }
            Kind::Pull if body.len() == READY.len() => {
                self.workers[w].ready = true;
                if self.workers[w].subscribed {
                    self.ready.push_back(w);
                }
            }
            Kind::Pull => {
                if std::mem::take(&mut self.workers[w].acting) {
                    self.acting -= 1;
                }
            }
        }
    }

    /// Admission ahead of the next pulse: up to N admitted and not yet released, and never more than N beyond
    /// the slots still acting.
    fn admit(&mut self) {
        while self.admitted < self.n && self.admitted + self.acting < 2 * self.n {
            let Some(w) = self.queue.pop_front() else {
                return;
            };
            if let Some(Token(t)) = self.workers[w].admission {
                let reply = std::mem::take(&mut self.reply);
                self.send(t, &reply);
                self.reply = reply;
                self.admitted += 1;
            }
        }
    }

    /// One pulse: to the ready subscribers, at most N minus the slots still acting.
    fn release(&mut self) -> usize {
        let room = self.n - self.acting;
        let pulse = std::mem::take(&mut self.pulse);
        let mut released = 0;
        while released < room {
            let Some(w) = self.ready.pop_front() else {
                break;
            };
            let worker = &mut self.workers[w];
            worker.ready = false;
            worker.acting = true;
            if let Some(Token(t)) = worker.publish {
                self.send(t, &pulse);
            }
            released += 1;
        }
        self.pulse = pulse;
        self.acting += released;
        self.admitted = self.admitted.saturating_sub(released);
        released
    }

    /// Writes at once when nothing is queued for this connection; what the kernel does not take waits for the
    /// connection's next writable event.
    fn send(&mut self, token: usize, bytes: &[u8]) {
        let Some(conn) = self.conns[token - FIRST_CONN].as_mut() else {
            return;
        };
        if !conn.outbox.is_empty() {
            conn.outbox.extend_from_slice(bytes);
            return;
        }
        match conn.stream.write(bytes) {
            Ok(wrote) => conn.outbox.extend_from_slice(&bytes[wrote..]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => conn.outbox.extend_from_slice(bytes),
            Err(_) => self.conns[token - FIRST_CONN] = None,
        }
    }

    fn flush(&mut self, token: usize) {
        let Some(conn) = self.conns[token - FIRST_CONN].as_mut() else {
            return;
        };
        while !conn.outbox.is_empty() {
            match conn.stream.write(&conn.outbox) {
                Ok(wrote) => {
                    conn.outbox.drain(..wrote);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.conns[token - FIRST_CONN] = None;
                    return;
                }
            }
        }
    }
}
