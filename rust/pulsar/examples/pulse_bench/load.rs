//! Driving a case: the performer threads, the ghost and killed workers, and what they bring back.
//!
//! It must never assert: it measures and hands a [`Summary`] to the analysis; errors are counted, not fatal.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use publisher_pulsar::performer::{Performer, PerformerConfig};
use publisher_pulsar::PulsarError;

use crate::cases::Case;
use crate::machine::{idle_pct, machine_jiffies};
use crate::process::{cpu_ticks, peak_rss_kib, wait_listening};
use crate::Args;

/// One grant as a performer saw it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grant {
    pub(crate) asked: Instant,
    pub(crate) received: Instant,
}

/// What one performer thread brings back.
#[derive(Debug, Default)]
pub(crate) struct ThreadOutcome {
    pub(crate) grants: Vec<Grant>,
    pub(crate) errors: Vec<String>,
}

/// What a case measured, before analysis.
pub(crate) struct Summary {
    /// Admissions the ghosts and killed workers got.
    pub(crate) misfit_admissions: usize,
    pub(crate) span_start: Instant,
    pub(crate) span_end: Instant,
    /// SystemTime of `base_instant`, to compare receipts with the daemon's log timestamps.
    pub(crate) base_system: f64,
    pub(crate) base_instant: Instant,
    pub(crate) grants: Vec<Grant>,
    pub(crate) errors: Vec<String>,
    pub(crate) cpu_span_ms: u64,
    pub(crate) cpu_total_ms: u64,
    /// CPU time of this process (the performer threads and their libzmq I/O thread) during the span.
    pub(crate) clients_cpu_span_ms: u64,
    /// Share of the machine's CPU time left idle during the measured span (all CPUs, `/proc/stat`).
    pub(crate) machine_idle_pct: f64,
    pub(crate) peak_rss_kib: u64,
}

pub(crate) fn drive_case(
    case: Case,
    args: &Args,
    admission: &str,
    publish: &str,
    pull: &str,
    pid: u32,
    clk_tck: u64,
) -> Result<Summary, String> {
    let admission_port = admission
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse::<u16>().ok())
        .ok_or("bad admission address")?;
    wait_listening(admission_port, Duration::from_secs(10))?;

    let base_instant = Instant::now();
    let base_system = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| format!("clock before 1970: {e}"))?
        .as_secs_f64();
    let config = PerformerConfig {
        publisher_pulsar_address: publish.to_owned(),
        push_pulsar_address: pull.to_owned(),
        request_pulsar_rs_address: admission.to_owned(),
        module_name: format!("pulse_bench_case{}", case.id),
        admission_timeout: Duration::from_secs(30),
        pulse_timeout: Duration::from_secs(30),
        send_timeout: Duration::from_secs(5),
        curve_server_key: None,
    };
    let context = zmq::Context::new();
    let barrier = Arc::new(Barrier::new(case.performers + 1));
    let start_slot: Arc<std::sync::OnceLock<Instant>> = Arc::new(std::sync::OnceLock::new());
    let measured = Duration::from_secs_f64(args.seconds);
    let warmup = Duration::from_secs_f64(args.warmup);
    let mut workers = Vec::with_capacity(case.performers);
    for _ in 0..case.performers {
        let config = config.clone();
        let context = context.clone();
        let barrier = Arc::clone(&barrier);
        let start_slot = Arc::clone(&start_slot);
        workers.push(thread::spawn(move || {
            let mut outcome = ThreadOutcome::default();
            let mut performer = match Performer::connect_in(config, &context) {
                Ok(p) => p,
                Err(e) => {
                    outcome.errors.push(format!("connect: {e}"));
                    barrier.wait();
                    return outcome;
                }
            };
            barrier.wait();
            let end = *start_slot
                .get()
                .expect("set before the barrier is released")
                + warmup
                + measured;
            let mut next_ask = Instant::now();
            while Instant::now() < end && case.grants_each.is_none_or(|k| outcome.grants.len() < k)
            {
                if let Some(every) = case.ask_every {
                    thread::sleep(next_ask.saturating_duration_since(Instant::now()));
                    next_ask += Duration::from_secs_f64(every);
                }
                let asked = Instant::now();
                match performer.wait_permission() {
                    Ok(_) => {
                        let received = Instant::now();
                        outcome.grants.push(Grant { asked, received });
                        if let Err(e) = performer.report_success() {
                            outcome.errors.push(error_kind(&e));
                        }
                    }
                    Err(e) => outcome.errors.push(error_kind(&e)),
                }
            }
            outcome
        }));
    }
    let stop_misfits = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut misfits = Vec::new();
    for _ in 0..case.ghosts {
        let (admission, stop) = (admission.to_owned(), Arc::clone(&stop_misfits));
        misfits.push(thread::spawn(move || ghost_loop(&admission, &stop)));
    }
    for _ in 0..case.killed {
        let (a, p, q) = (admission.to_owned(), publish.to_owned(), pull.to_owned());
        misfits.push(thread::spawn(move || {
            thread::sleep(Duration::from_secs(2));
            killed_after_grant(&a, &p, &q)
        }));
    }
    let start = Instant::now();
    start_slot.set(start).map_err(|_| "start set twice")?;
    barrier.wait();
    let span_start = start + warmup;
    let span_end = span_start + measured;
    thread::sleep(span_start.saturating_duration_since(Instant::now()));
    let cpu_at_start = cpu_ticks(pid)?;
    let clients_at_start = cpu_ticks(std::process::id())?;
    let machine_at_start = machine_jiffies()?;
    thread::sleep(span_end.saturating_duration_since(Instant::now()));
    let cpu_at_end = cpu_ticks(pid)?;
    let clients_at_end = cpu_ticks(std::process::id())?;
    let machine_at_end = machine_jiffies()?;
    stop_misfits.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut misfit_admissions = 0;
    for misfit in misfits {
        misfit_admissions += misfit.join().map_err(|_| "a misfit thread panicked")?;
    }
    let mut grants = Vec::new();
    let mut errors = Vec::new();
    for worker in workers {
        let outcome = worker.join().map_err(|_| "a performer thread panicked")?;
        grants.extend(outcome.grants);
        errors.extend(outcome.errors);
    }
    let cpu_total = cpu_ticks(pid)?;
    let peak_rss_kib = peak_rss_kib(pid)?;
    let to_ms = |ticks: u64| ticks * 1000 / clk_tck.max(1);
    Ok(Summary {
        misfit_admissions,
        span_start,
        span_end,
        base_system,
        base_instant,
        grants,
        errors,
        cpu_span_ms: to_ms(cpu_at_end.saturating_sub(cpu_at_start)),
        cpu_total_ms: to_ms(cpu_total),
        clients_cpu_span_ms: to_ms(clients_at_end.saturating_sub(clients_at_start)),
        machine_idle_pct: idle_pct(machine_at_start, machine_at_end),
        peak_rss_kib,
    })
}

/// A process that asks for admission and exits as soon as it is admitted, before subscribing; a new one takes
/// its place 20 ms later (a crash loop). Returns how many admissions it got.
pub(crate) fn ghost_loop(admission: &str, stop: &std::sync::atomic::AtomicBool) -> usize {
    let mut admitted = 0;
    let request = pulsar_wire::PreparingRequest::default().encode();
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        let context = zmq::Context::new();
        let Ok(req) = context.socket(zmq::REQ) else {
            return admitted;
        };
        let _ = req.set_linger(0);
        let _ = req.set_rcvtimeo(1000);
        if req.connect(admission).is_ok()
            && req.send(&request[..], 0).is_ok()
            && req.recv_bytes(0).is_ok()
        {
            admitted += 1;
        }
        drop(req);
        drop(context);
        thread::sleep(Duration::from_millis(20));
    }
    admitted
}

/// A worker that follows the protocol up to its first pulse and is then killed: its sockets close with no
/// result and no goodbye. Returns 1 once it got its pulse.
pub(crate) fn killed_after_grant(admission: &str, publish: &str, pull: &str) -> usize {
    let context = zmq::Context::new();
    let sockets = (
        context.socket(zmq::REQ),
        context.socket(zmq::SUB),
        context.socket(zmq::PUSH),
    );
    let (Ok(req), Ok(sub), Ok(push)) = sockets else {
        return 0;
    };
    for s in [&req, &sub, &push] {
        let _ = s.set_linger(0);
        let _ = s.set_rcvtimeo(10_000);
    }
    let ok = req.connect(admission).is_ok()
        && sub.connect(publish).is_ok()
        && push.connect(pull).is_ok()
        && req
            .send(&pulsar_wire::PreparingRequest::default().encode()[..], 0)
            .is_ok()
        && req.recv_bytes(0).is_ok()
        && sub.set_subscribe(b"").is_ok()
        && push
            .send(&pulsar_wire::PerformerPush::Ready.encode()[..], 0)
            .is_ok()
        && sub.recv_bytes(0).is_ok();
    usize::from(ok)
}

pub(crate) fn error_kind(e: &PulsarError) -> String {
    match e {
        PulsarError::Timeout { what, .. } => format!("timeout:{what}"),
        other => other.to_string(),
    }
}
