//! What a daemon leaves for the next daemon on the same sockets, and what it reads of the last one.
//!
//! The engine must not put more than N pulses' worth of grants in one period window across a restart, so a new
//! daemon must know when its predecessor could last have pulsed (see `pulsar_pulse::engine::restart`). The
//! predecessor tells it through a small record file (`stateFile`; by default `pulsard-<publish endpoint>.state`
//! in the temporary folder, so that each daemon address has its own), one JSON object:
//!
//! - `{"state":"running","pid":P,"heartbeat_unix_ns":T}` from the start, rewritten every [`HEARTBEAT`];
//! - `{"state":"stopped","pid":P,"last_pulse_unix_ns":T}` (or `null` when it never pulsed) after a stop.
//!
//! At start the daemon reads it and tells the engine:
//!
//! | record | predecessor |
//! |---|---|
//! | none (the file does not exist) | none: the first pulse may go at once, admission open at once |
//! | stopped, last pulse at T | ran, quiet since T |
//! | running, last heartbeat at T (it died without a word) | ran, quiet at least since T + [`HEARTBEAT`] (it may have pulsed until its next heartbeat) |
//! | unreadable, malformed, or dated in the future (clock set back) | ran, quiet for an unknown time: the first pulse waits a period |
//!
//! Times are wall-clock (the record outlives the process). Files are replaced by rename, so a reader never sees
//! half a record. The default folder is shared (`/tmp`), so a record is trusted only when it is a regular file
//! (not a link) owned by the daemon's own user and writable by no one else; any other is unusable (a whole
//! period's wait), and the file beside it that becomes the next record is created new, never opened through a
//! link someone left there.
//!
//! It must never decide anything about pulses (the engine does, from the [`Predecessor`]), and a failure to
//! write must never stop the daemon: it is logged once, and a successor that then finds an older record or none
//! assumes what that record says.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pulsar_pulse::{Nanos, Predecessor};
use serde::{Deserialize, Serialize};
use tracing::{debug, warn};

use super::LOG_TARGET;

/// How often a running daemon rewrites its record.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(1);

/// The record file, as written and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "lowercase")]
enum Record {
    /// A daemon runs (or died without a word).
    Running {
        /// Its process id (for people reading the file).
        pid: u32,
        /// When it last wrote the record.
        heartbeat_unix_ns: u64,
    },
    /// A daemon stopped.
    Stopped {
        /// Its process id (for people reading the file).
        pid: u32,
        /// When its last pulse went out; `None` when it never pulsed.
        last_pulse_unix_ns: Option<u64>,
    },
}

/// The record file a daemon bound at `publish_endpoint` uses by default: in the temporary folder, named after
/// the endpoint (every character other than ASCII letters, digits, `.` and `-` becomes `-`).
pub(crate) fn default_path(publish_endpoint: &str) -> PathBuf {
    let name: String = publish_endpoint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    std::env::temp_dir().join(format!("pulsard-{name}.state"))
}

/// What `text` (the record file's content, `None` when there is no file) says about the predecessor, at wall
/// time `now_unix_ns`.
fn predecessor_from(text: Option<&str>, now_unix_ns: u64) -> Result<Predecessor, String> {
    let Some(text) = text else {
        return Ok(Predecessor::None);
    };
    let record: Record =
        serde_json::from_str(text).map_err(|e| format!("the record cannot be read: {e}"))?;
    let quiet_since = match record {
        Record::Stopped {
            last_pulse_unix_ns: None,
            ..
        } => {
            return Ok(Predecessor::Ran {
                quiet_for: Nanos::from_nanos(u64::MAX),
            })
        }
        Record::Stopped {
            last_pulse_unix_ns: Some(t),
            ..
        } => t,
        Record::Running {
            heartbeat_unix_ns, ..
        } => heartbeat_unix_ns.saturating_add(nanos(HEARTBEAT)),
    };
    if quiet_since > now_unix_ns.saturating_add(nanos(HEARTBEAT)) {
        return Err("the record is dated in the future (was the clock set back?)".into());
    }
    Ok(Predecessor::Ran {
        quiet_for: Nanos::from_nanos(now_unix_ns.saturating_sub(quiet_since)),
    })
}

/// The daemon's side of the succession: reads the predecessor's record once, then keeps its own.
#[derive(Debug)]
pub(crate) struct Succession {
    path: PathBuf,
    predecessor: Predecessor,
    last_pulse_unix_ns: Option<u64>,
    last_write: Option<Instant>,
    /// A write failed and was logged; later failures are logged at debug level only.
    write_failed: bool,
}

impl Succession {
    /// Reads what the daemon that ran before on `path` left, and records this one as running. Nothing here
    /// fails the start: an unreadable record means a predecessor about which nothing is known.
    pub(crate) fn begin(path: PathBuf) -> Succession {
        let text = read_trusted(&path);
        let predecessor = text
            .and_then(|text| predecessor_from(text.as_deref(), unix_now_ns()))
            .unwrap_or_else(|why| {
                warn!(target: LOG_TARGET, path = %path.display(), reason = %why, "the previous daemon's state file is unusable: the first pulse waits a whole period");
                Predecessor::UNKNOWN
            });
        debug!(target: LOG_TARGET, path = %path.display(), ?predecessor, "read the previous daemon's state");
        let mut succession = Succession {
            path,
            predecessor,
            last_pulse_unix_ns: None,
            last_write: None,
            write_failed: false,
        };
        succession.heartbeat(Instant::now());
        succession
    }

    /// What the engine is to guard against.
    pub(crate) fn predecessor(&self) -> Predecessor {
        self.predecessor
    }

    /// The record file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A pulse went out now.
    pub(crate) fn pulsed(&mut self) {
        self.last_pulse_unix_ns = Some(unix_now_ns());
    }

    /// Rewrites the running record when [`HEARTBEAT`] has passed since the last write (call often, and right before
    /// every pulse: a successor assumes no pulse left more than a heartbeat after the last record).
    pub(crate) fn heartbeat(&mut self, now: Instant) {
        if self
            .last_write
            .is_some_and(|last| now.saturating_duration_since(last) < HEARTBEAT)
        {
            return;
        }
        self.last_write = Some(now);
        self.write(Record::Running {
            pid: std::process::id(),
            heartbeat_unix_ns: unix_now_ns(),
        });
    }

    /// Records the stop, with the last pulse, for the next daemon.
    pub(crate) fn stopped(&mut self) {
        self.write(Record::Stopped {
            pid: std::process::id(),
            last_pulse_unix_ns: self.last_pulse_unix_ns,
        });
    }

    fn write(&mut self, record: Record) {
        let outcome = serde_json::to_vec(&record)
            .map_err(std::io::Error::other)
            .and_then(|bytes| replace_file(&self.path, &bytes));
        if let Err(e) = outcome {
            if std::mem::replace(&mut self.write_failed, true) {
                debug!(target: LOG_TARGET, path = %self.path.display(), error = %e, "cannot write the state file");
            } else {
                warn!(target: LOG_TARGET, path = %self.path.display(), error = %e, "cannot write the state file: a daemon started on these sockets after this one will not know when it last pulsed (set stateFile to a writable path)");
            }
        }
    }
}

/// The record at `path`: `Ok(None)` when there is none, an error when it cannot be read or is not to be trusted
/// (not a regular file, owned by another user, or writable by others: someone else could have written it).
fn read_trusted(path: &Path) -> Result<Option<String>, String> {
    use std::os::unix::fs::MetadataExt;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("the record cannot be read: {e}")),
    };
    if !meta.file_type().is_file() {
        return Err("the record is not a regular file".into());
    }
    if meta.uid() != pulsar_sockopt::effective_uid() || meta.mode() & 0o022 != 0 {
        return Err("the record belongs to another user or others may write it".into());
    }
    std::fs::read_to_string(path)
        .map(Some)
        .map_err(|e| format!("the record cannot be read: {e}"))
}

/// Writes `bytes` to a new file beside `path` (mode 0600, created afresh so that no link left there is followed),
/// then renames it over `path`: a reader sees the old record or the new.
fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    // Left over from a write that died halfway; removing a link removes the link, not what it points to.
    match std::fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(bytes)?;
    drop(file);
    std::fs::rename(&tmp, path)
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Now as nanoseconds since the Unix epoch (zero if the system clock is before it).
fn unix_now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(nanos)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    #[test]
    fn no_record_means_no_predecessor() {
        assert_eq!(predecessor_from(None, 100 * S), Ok(Predecessor::None));
    }

    #[test]
    fn a_stopped_record_gives_the_time_since_its_last_pulse() {
        let text = r#"{"state":"stopped","pid":7,"last_pulse_unix_ns":97000000000}"#;
        assert_eq!(
            predecessor_from(Some(text), 100 * S),
            Ok(Predecessor::Ran {
                quiet_for: Nanos::from_secs(3)
            })
        );
        let never = r#"{"state":"stopped","pid":7,"last_pulse_unix_ns":null}"#;
        assert_eq!(
            predecessor_from(Some(never), 100 * S),
            Ok(Predecessor::Ran {
                quiet_for: Nanos::from_nanos(u64::MAX)
            })
        );
    }

    #[test]
    fn a_running_record_allows_for_pulses_until_the_next_heartbeat() {
        let text = r#"{"state":"running","pid":7,"heartbeat_unix_ns":95000000000}"#;
        assert_eq!(
            predecessor_from(Some(text), 100 * S),
            Ok(Predecessor::Ran {
                quiet_for: Nanos::from_secs(4)
            })
        );
        // Its last heartbeat half a second ago: it may have pulsed just now.
        let fresh = r#"{"state":"running","pid":7,"heartbeat_unix_ns":99500000000}"#;
        assert_eq!(
            predecessor_from(Some(fresh), 100 * S),
            Ok(Predecessor::UNKNOWN)
        );
    }

    #[test]
    fn a_malformed_or_future_record_is_refused() {
        assert!(predecessor_from(Some("{"), 100 * S).is_err());
        assert!(predecessor_from(Some(r#"{"state":"paused"}"#), 100 * S).is_err());
        let future = r#"{"state":"stopped","pid":7,"last_pulse_unix_ns":200000000000}"#;
        assert!(predecessor_from(Some(future), 100 * S).is_err());
    }

    /// The running record is rewritten once a heartbeat has passed, not before.
    #[test]
    fn the_running_record_is_rewritten_every_heartbeat() {
        let path = std::env::temp_dir().join(format!(
            "pulsar-succession-heartbeat-{}.state",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        let mut succession = Succession::begin(path.clone());
        let started = Instant::now();
        let first = std::fs::read_to_string(&path).expect("a running record");
        std::thread::sleep(Duration::from_millis(2));
        succession.heartbeat(started + HEARTBEAT / 2);
        assert_eq!(
            std::fs::read_to_string(&path).expect("record"),
            first,
            "rewritten within a heartbeat"
        );
        succession.heartbeat(started + HEARTBEAT * 2);
        assert_ne!(
            std::fs::read_to_string(&path).expect("record"),
            first,
            "not rewritten after a heartbeat"
        );
        let _ = std::fs::remove_file(&path);
    }

    /// A record others could have written is not trusted: a link, or one writable by others.
    #[test]
    fn a_record_others_could_write_is_not_trusted() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir();
        let pid = std::process::id();
        let target = dir.join(format!("pulsar-succession-target-{pid}"));
        let link = dir.join(format!("pulsar-succession-link-{pid}.state"));
        let open = dir.join(format!("pulsar-succession-open-{pid}.state"));
        let record = r#"{"state":"stopped","pid":7,"last_pulse_unix_ns":null}"#;
        std::fs::write(&target, record).expect("write");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert!(read_trusted(&link).is_err(), "a link");
        std::fs::write(&open, record).expect("write");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        assert!(read_trusted(&open).is_err(), "writable by others");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert_eq!(read_trusted(&open), Ok(Some(record.to_string())));
        // Writing over the link replaces the link, and the file it pointed to is left as it was.
        replace_file(&link, b"{}").expect("replace");
        assert_eq!(std::fs::read_to_string(&target).expect("target"), record);
        for path in [&target, &link, &open] {
            let _ = std::fs::remove_file(path);
        }
    }

    #[test]
    fn the_default_path_is_named_after_the_publish_endpoint() {
        let path = default_path("tcp://127.0.0.1:6273");
        assert_eq!(
            path.file_name().and_then(|n| n.to_str()),
            Some("pulsard-tcp---127.0.0.1-6273.state")
        );
        assert_eq!(path.parent(), Some(std::env::temp_dir().as_path()));
    }

    /// The records a daemon writes are what the next one reads: running, then stopped with its last pulse.
    #[test]
    fn a_daemon_s_records_are_read_by_the_next() {
        let path = std::env::temp_dir().join(format!(
            "pulsar-succession-test-{}.state",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        let first = Succession::begin(path.clone());
        assert_eq!(first.predecessor(), Predecessor::None);
        let text = std::fs::read_to_string(&path).expect("a running record");
        assert!(text.contains(r#""state":"running""#), "{text}");
        let mut second = Succession::begin(path.clone());
        assert_eq!(second.predecessor(), Predecessor::UNKNOWN, "it just ran");
        second.pulsed();
        second.stopped();
        let third = Succession::begin(path.clone());
        match third.predecessor() {
            Predecessor::Ran { quiet_for } => assert!(quiet_for < Nanos::from_secs(60)),
            other => panic!("{other:?}"),
        }
        let _ = std::fs::remove_file(&path);
    }
}
