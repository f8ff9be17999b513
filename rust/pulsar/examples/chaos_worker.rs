//! A worker of the chaos suite (`tests/chaos/`): one Rust [`Performer`] with the default timeouts, asking for
//! permission in a loop until killed, acting for `ACT_MS` milliseconds each time.
//!
//! Usage: `chaos_worker ADMISSION PUBLISH PUSH ID [ACT_MS]`. Prints `GRANT rust <ID> <unix time>` per permission
//! and `ERROR rust <ID> <unix time> <message>` per failed call (then asks again, as a real worker would).

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use publisher_pulsar::performer::{Performer, PerformerConfig};

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, admission, publish, push, id, rest @ ..] = args.as_slice() else {
        eprintln!("usage: chaos_worker ADMISSION PUBLISH PUSH ID [ACT_MS]");
        std::process::exit(2);
    };
    let act = Duration::from_millis(rest.first().and_then(|a| a.parse().ok()).unwrap_or(0));
    let config = PerformerConfig {
        request_pulsar_rs_address: admission.clone(),
        publisher_pulsar_address: publish.clone(),
        push_pulsar_address: push.clone(),
        module_name: format!("chaos-rust-{id}"),
        ..PerformerConfig::default()
    };
    let mut performer = match Performer::connect(config) {
        Ok(performer) => performer,
        Err(e) => {
            eprintln!("chaos_worker: {e}");
            std::process::exit(1);
        }
    };
    let mut out = std::io::stdout();
    loop {
        match performer.wait_permission() {
            Ok(_) => {
                let _ = writeln!(out, "GRANT rust {id} {:.6}", unix_now());
                let _ = out.flush();
                std::thread::sleep(act);
                if let Err(e) = performer.report_success() {
                    let _ = writeln!(out, "ERROR rust {id} {:.6} {e}", unix_now());
                }
            }
            Err(e) => {
                let _ = writeln!(out, "ERROR rust {id} {:.6} {e}", unix_now());
                let _ = out.flush();
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}
