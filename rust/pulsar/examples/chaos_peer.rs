//! Hostile and normal peers for the chaos scenarios in `tests/chaos/` (run there against a real `pulsard`).
//!
//! ```text
//! chaos_peer fleet        ADMISSION PUBLISH PULL WORKERS SECONDS N PERIOD   # normal workers; prints grants
//! chaos_peer subflood     PUBLISH MESSAGES MAX_BYTES                        # subscriptions with long topics
//! chaos_peer fuzz         ADMISSION PUBLISH PULL SECONDS                    # random/mutated/nested/oversized
//! chaos_peer envelopes    ADMISSION PEERS FRAMES FRAME_BYTES                # deep, large routing envelopes
//! chaos_peer admission-flood ADMISSION CONNECTIONS SECONDS                  # strangers asking, never subscribing
//! ```
//! Each prints one `key=value` line of figures on standard output. `fleet` exits 2 when its workers got no
//! grant at all; its `most_in_one_period` is measured on the workers' clocks after their threads woke (load
//! shifts it), so the scenarios judge "never more than N" from the daemon's own pulse log.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use publisher_pulsar::performer::{Performer, PerformerConfig};
use pulsar_wire::{ActionResult, PerformerPush, PreparingRequest};

/// A small xorshift generator: chaos needs variety, not quality.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn arg(args: &[String], i: usize) -> &str {
    args.get(i).map(String::as_str).unwrap_or_else(|| {
        eprintln!("missing argument {i}; see the source's docs");
        std::process::exit(64)
    })
}

fn num(args: &[String], i: usize) -> u64 {
    arg(args, i).parse().unwrap_or_else(|_| {
        eprintln!("argument {i} must be a number");
        std::process::exit(64)
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match arg(&args, 1) {
        "fleet" => fleet(&args),
        "subflood" => subflood(arg(&args, 2), num(&args, 3), num(&args, 4)),
        "fuzz" => fuzz(arg(&args, 2), arg(&args, 3), arg(&args, 4), num(&args, 5)),
        "envelopes" => envelopes(arg(&args, 2), num(&args, 3), num(&args, 4), num(&args, 5)),
        "admission-flood" => admission_flood(arg(&args, 2), num(&args, 3), num(&args, 4)),
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(64)
        }
    }
}

/// Normal workers (our Performer client) cycling for `SECONDS`; prints grants and the most grants seen in one
/// period window.
fn fleet(args: &[String]) {
    let (admission, publish, pull) = (arg(args, 2), arg(args, 3), arg(args, 4));
    let (workers, seconds, n) = (num(args, 5), num(args, 6), num(args, 7));
    let period: f64 = arg(args, 8).parse().unwrap_or(1.0);
    let stop = Arc::new(AtomicBool::new(false));
    let grants = Arc::new(Mutex::new(Vec::<Instant>::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..workers)
        .map(|i| {
            let config = PerformerConfig {
                publisher_pulsar_address: publish.into(),
                push_pulsar_address: pull.into(),
                request_pulsar_rs_address: admission.into(),
                module_name: format!("fleet-{i}"),
                admission_timeout: Duration::from_secs(10),
                pulse_timeout: Duration::from_secs(10),
                ..PerformerConfig::default()
            };
            let (stop, grants, errors) = (stop.clone(), grants.clone(), errors.clone());
            thread::spawn(move || {
                let Ok(mut performer) = Performer::connect(config) else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                while !stop.load(Ordering::Relaxed) {
                    match performer.wait_permission() {
                        Ok(_) => {
                            if let Ok(mut g) = grants.lock() {
                                g.push(Instant::now());
                            }
                            thread::sleep(Duration::from_millis(20));
                            let _ = performer.report_success();
                        }
                        Err(_) => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    // Workers blocked in a wait end within their timeouts; the figures are taken now.
    let mut times = grants.lock().map(|g| g.clone()).unwrap_or_default();
    times.sort();
    let window = Duration::from_secs_f64(period);
    let mut most = 0;
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..].iter().take_while(|u| **u < *t + window).count();
        most = most.max(in_window);
    }
    let per_second: Vec<usize> = (0..seconds)
        .map(|s| {
            let from = started + Duration::from_secs(s);
            times
                .iter()
                .filter(|t| **t >= from && **t < from + Duration::from_secs(1))
                .count()
        })
        .collect();
    let longest_gap = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    println!(
        "fleet grants={} most_in_one_period={} n={} errors={} longest_gap_s={:.2} per_second={:?}",
        times.len(),
        most,
        n,
        errors.load(Ordering::Relaxed),
        longest_gap.as_secs_f64(),
        per_second
    );
    for h in handles {
        drop(h); // detached: a worker may still wait out its timeout
    }
    if times.is_empty() {
        std::process::exit(2);
    }
}

/// One subscriber connection sending `messages` subscriptions with distinct topics up to `max_bytes` long.
fn subflood(publish: &str, messages: u64, max_bytes: u64) {
    let context = zmq::Context::new();
    let sub = context.socket(zmq::SUB).expect("SUB");
    sub.set_linger(0).expect("LINGER");
    sub.connect(publish).expect("connect");
    let mut rng = Rng(0x5eed_1234);
    let mut sent_bytes = 0;
    for i in 0..messages {
        let len = 1 + rng.below(max_bytes.max(8)) as usize;
        let mut topic = format!("{i:08}").into_bytes();
        topic.resize(len.max(8), b'x');
        sent_bytes += topic.len();
        if sub.set_subscribe(&topic).is_err() {
            break;
        }
    }
    thread::sleep(Duration::from_secs(2));
    println!("subflood messages={messages} bytes={sent_bytes}");
}

/// Random, mutated, nested and oversized messages on all three ports from fresh connections.
fn fuzz(admission: &str, publish: &str, pull: &str, seconds: u64) {
    let context = zmq::Context::new();
    let mut rng = Rng(0xc0ff_ee11);
    let valid = [
        PreparingRequest::default().encode(),
        PerformerPush::Ready.encode(),
        PerformerPush::ActionResult(ActionResult {
            action_complete_correctly: Some(true),
            ..ActionResult::default()
        })
        .encode(),
    ];
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (mut sent, mut bytes) = (0u64, 0u64);
    while Instant::now() < deadline {
        let (kind, endpoint) = match rng.below(3) {
            0 => (zmq::DEALER, admission),
            1 => (zmq::PUSH, pull),
            _ => (zmq::XSUB, publish),
        };
        let Ok(socket) = context.socket(kind) else {
            continue;
        };
        let _ = socket.set_linger(0);
        let _ = socket.set_sndtimeo(50);
        if socket.connect(endpoint).is_err() {
            continue;
        }
        for _ in 0..50 {
            let body = match rng.below(5) {
                0 => {
                    let len = rng.below(256) as usize;
                    rng.bytes(len)
                }
                1 => {
                    let mut m = valid[rng.below(3) as usize].clone();
                    for _ in 0..1 + rng.below(4) {
                        let at = rng.below(m.len() as u64) as usize;
                        m[at] = rng.next() as u8;
                    }
                    m
                }
                2 => {
                    let depth = 1 + rng.below(5000) as usize;
                    let mut m = Vec::new();
                    for _ in 0..depth {
                        m.extend_from_slice(b"a:1:{i:0;");
                    }
                    m.extend_from_slice(b"N;");
                    m.extend(std::iter::repeat_n(b'}', depth));
                    m
                }
                3 => vec![b'A'; 64 * 1024 + rng.below(2 << 20) as usize],
                _ => {
                    let mut m = vec![1u8];
                    let len = rng.below(100_000) as usize;
                    m.extend(rng.bytes(len));
                    m
                }
            };
            let frames = 1 + rng.below(3) as usize;
            let parts: Vec<Vec<u8>> = (0..frames)
                .map(|i| {
                    if i + 1 == frames {
                        body.clone()
                    } else {
                        Vec::new()
                    }
                })
                .collect();
            bytes += parts.iter().map(|p| p.len() as u64).sum::<u64>();
            if socket.send_multipart(parts, zmq::DONTWAIT).is_ok() {
                sent += 1;
            }
        }
        thread::sleep(Duration::from_millis(5));
    }
    println!("fuzz messages={sent} bytes={bytes}");
}

/// Peers sending requests behind deep envelopes of large frames; counts what comes back.
fn envelopes(admission: &str, peers: u64, frames: u64, frame_bytes: u64) {
    let context = zmq::Context::new();
    let request = PreparingRequest::default().encode();
    let sockets: Vec<zmq::Socket> = (0..peers)
        .filter_map(|_| {
            let s = context.socket(zmq::DEALER).ok()?;
            s.set_linger(0).ok()?;
            s.set_sndtimeo(2000).ok()?;
            s.connect(admission).ok()?;
            let mut parts: Vec<Vec<u8>> = (0..frames)
                .map(|_| vec![7u8; frame_bytes as usize])
                .collect();
            parts.push(Vec::new());
            parts.push(request.clone());
            s.send_multipart(parts, 0).ok()?;
            Some(s)
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut echoed = 0u64;
    while Instant::now() < deadline {
        for s in &sockets {
            if let Ok(parts) = s.recv_multipart(zmq::DONTWAIT) {
                echoed += parts.iter().map(|p| p.len() as u64).sum::<u64>();
            }
        }
        thread::sleep(Duration::from_millis(20));
    }
    println!(
        "envelopes peers={peers} sent_bytes={} echoed_bytes={echoed}",
        peers * frames * frame_bytes
    );
}

/// `connections` strangers, each asking for admission once and then doing nothing more (they never subscribe
/// and never read), held open for `seconds`.
fn admission_flood(admission: &str, connections: u64, seconds: u64) {
    // libzmq allows 1023 sockets per context by default: one context per 1000 connections.
    let count = (connections / 1000 + 1) as usize;
    let contexts: Vec<zmq::Context> = (0..count).map(|_| zmq::Context::new()).collect();
    let request = PreparingRequest::default().encode();
    let mut sockets = Vec::new();
    let mut failed = 0u64;
    for i in 0..connections {
        let context = &contexts[(i / 1000) as usize];
        let Ok(s) = context.socket(zmq::REQ) else {
            failed += 1;
            continue;
        };
        let _ = s.set_linger(0);
        let _ = s.set_sndtimeo(0);
        if s.connect(admission).is_err() || s.send(&request[..], zmq::DONTWAIT).is_err() {
            failed += 1;
        }
        sockets.push(s);
    }
    thread::sleep(Duration::from_secs(seconds));
    println!(
        "admission-flood connections={} failed_locally={failed}",
        sockets.len()
    );
}
