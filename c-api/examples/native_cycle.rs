//! The permission cycle of `tests/c/bench_cycle.c`, but calling the Rust Performer directly instead of through
//! the C ABI, so that `tests/c/bench.sh` can show what the ABI layer itself costs.
//!
//! `cargo run --release -p pulsar-capi --example native_cycle -- PERFORMER_JSON ITERATIONS WARMUP`

use std::process::ExitCode;
use std::time::Instant;

use publisher_pulsar::performer::{Performer, PerformerConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let parsed = match args.as_slice() {
        [_, json, iterations, warmup] => PerformerConfig::from_json(json)
            .map_err(|e| e.to_string())
            .and_then(|config| {
                let iterations: usize = iterations
                    .parse()
                    .map_err(|_| "ITERATIONS must be a number")?;
                let warmup: usize = warmup.parse().map_err(|_| "WARMUP must be a number")?;
                Ok((config, iterations.max(1), warmup))
            }),
        _ => Err("usage: native_cycle PERFORMER_JSON ITERATIONS WARMUP".to_owned()),
    };
    let (config, iterations, warmup) = match parsed {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("native_cycle: {message}");
            return ExitCode::from(2);
        }
    };
    match run(config, iterations, warmup) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("native_cycle: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    config: PerformerConfig,
    iterations: usize,
    warmup: usize,
) -> Result<(), publisher_pulsar::PulsarError> {
    let mut performer = Performer::connect(config)?;
    let mut samples = Vec::with_capacity(iterations);
    for i in 0..warmup + iterations {
        let started = Instant::now();
        performer.wait_permission()?;
        performer.report_success()?;
        if i >= warmup {
            samples.push(started.elapsed().as_secs_f64() * 1e6);
        }
    }
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    let mean = samples.iter().sum::<f64>() / n as f64;
    println!(
        "{:<34} n={n}  mean {mean:8.1} us  p50 {:8.1} us  p99 {:8.1} us  max {:8.1} us",
        "Rust Performer cycle (no ABI)",
        samples[n / 2],
        samples[n * 99 / 100],
        samples[n - 1]
    );
    Ok(())
}
