//! The Performer client: what a worker calls around each rate-limited action.
//!
//! It takes the same steps, with the same bytes, as the original PHP `Performer`, so it works against our
//! `pulsard` and against the original PHP daemon alike:
//! 1. [`Performer::wait_permission`] (the original's `connectToPulsarAndWaitPermissionToAct`): ask the
//!    admission desk (REQ → base+5) with a `PreparingRequestDto`, wait for `BecomeTheSubscriberReplyDto`,
//!    subscribe to the pulse (SUB ← base+3), PUSH `ReadyToGetSubscriptionMsg` (→ base+4), wait for the pulse,
//!    unsubscribe, hand the pulse to the caller.
//! 2. Act.
//! 3. Report once: [`Performer::report_success`] (`pushActionResultInfoWithoutPulsarCorrectionBehavior`),
//!    [`Performer::report_slow_down`], [`Performer::report_pause_for`], [`Performer::report`]
//!    (`pushActionResultInfo`) or [`Performer::report_early_termination`].
//!
//! Unlike the original, every wait is bounded ([`PerformerConfig`]) and every failure leaves the Performer
//! usable: the next [`Performer::wait_permission`] starts clean, also after the daemon was restarted on the
//! same addresses (ZeroMQ reconnects by itself; a REQ socket whose request timed out is replaced, the "lazy
//! pirate" pattern, because a REQ socket that never got its reply refuses to send again).
//!
//! It must never decide anything about rates (that is the daemon's engine), never wait without a bound, and
//! never panic on what a peer sends.
//!
//! # Threads
//! A [`Performer`] is `Send` but not `Sync`: ZeroMQ sockets may move between threads but must not be used
//! from two threads at once. Give each worker thread its own Performer; share one [`zmq::Context`] between
//! them with [`Performer::connect_in`] to avoid one I/O thread per Performer.
//!
//! # Known limit
//! If the daemon restarts while a worker waits for its pulse and is back before `pulse_timeout` runs out, the
//! reconnecting SUB socket hands its live subscription to the new daemon, which never admitted this worker: it
//! sees one subscription it did not admit, and holds its pulses (logged) until this worker's `pulse_timeout` runs
//! out and it unsubscribes. Issue-tracked under hardening (restarts).

use std::time::{Duration, Instant};

use pulsar_wire::{BecomeTheSubscriberReply, Limits, PerformerPush, PreparingRequest, WireError};
use serde::{Deserialize, Serialize};

pub use pulsar_wire::{ActionResult, Pulse};

use crate::error::PulsarError;

/// How long a closing socket may still try to deliver what it queued. Small so that dropping a Performer or
/// replacing a socket never blocks a worker noticeably.
const LINGER: Duration = Duration::from_millis(100);

/// Longest timeout ZeroMQ's socket options can hold (a C `int` of milliseconds, about 24.8 days).
const MAX_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// Settings of one Performer: the original `PerformerSocketsParamsDto` addresses, the module name, and the
/// timeouts the original did not have.
///
/// In JSON (the C ABI and the PHP extension pass this) the keys are the original setters' names,
/// `publisherPulsarSocketAddress`, `pushPulsarSocketAddress`, `requestPulsarRsSocketAddress`, `moduleName`,
/// and the timeouts in seconds as numbers: `admissionTimeout`, `pulseTimeout`, `sendTimeout`. Missing keys
/// take the defaults, unknown keys are an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PerformerConfigJson", into = "PerformerConfigJson")]
pub struct PerformerConfig {
    /// Where the daemon publishes pulses (SUB connects here). Default `tcp://127.0.0.1:6273`.
    pub publisher_pulsar_address: String,
    /// Where the daemon pulls readiness and results (PUSH connects here). Default `tcp://127.0.0.1:6274`.
    pub push_pulsar_address: String,
    /// The admission desk (REQ connects here). Default `tcp://127.0.0.1:6275`.
    pub request_pulsar_rs_address: String,
    /// The worker's name, for logs only. Default `performer`.
    pub module_name: String,
    /// Longest wait for admission. Default 60 s. Admission is legitimately slow when many workers queue:
    /// with W workers ahead and N per period, the wait is about W / N periods, so raise it for large queues.
    pub admission_timeout: Duration,
    /// Longest wait for the pulse once admitted. Default 30 s: the daemon publishes within one period plus
    /// its ready wait (7 s by default); but a slow-down pause (up to 300 s) delays the pulse too, so raise it
    /// if your daemon may slow down that far.
    pub pulse_timeout: Duration,
    /// Longest wait for a message to be handed to ZeroMQ (readiness, results). Default 5 s; it only runs out
    /// when the daemon is unreachable.
    pub send_timeout: Duration,
    /// The daemon's CURVE public key (Z85, 40 characters), when the daemon runs with `curveSecretKey`: the
    /// three sockets then use CURVE (encrypted, and only a daemon holding the matching secret key can answer),
    /// each with a fresh client key pair. `None` (the default): the NULL mechanism, as the original.
    pub curve_server_key: Option<String>,
}

impl Default for PerformerConfig {
    fn default() -> Self {
        PerformerConfig {
            publisher_pulsar_address: "tcp://127.0.0.1:6273".into(),
            push_pulsar_address: "tcp://127.0.0.1:6274".into(),
            request_pulsar_rs_address: "tcp://127.0.0.1:6275".into(),
            module_name: "performer".into(),
            admission_timeout: Duration::from_secs(60),
            pulse_timeout: Duration::from_secs(30),
            send_timeout: Duration::from_secs(5),
            curve_server_key: None,
        }
    }
}

impl PerformerConfig {
    /// Parses the JSON form (see the type's docs) and validates it.
    pub fn from_json(json: &str) -> Result<PerformerConfig, PulsarError> {
        let raw: PerformerConfigJson = serde_json::from_str(json)?;
        PerformerConfig::try_from(raw)
    }

    /// Checks every setting; the first bad one is reported by its JSON name.
    pub fn validate(&self) -> Result<(), PulsarError> {
        for (setting, address) in [
            (
                "publisherPulsarSocketAddress",
                &self.publisher_pulsar_address,
            ),
            ("pushPulsarSocketAddress", &self.push_pulsar_address),
            (
                "requestPulsarRsSocketAddress",
                &self.request_pulsar_rs_address,
            ),
        ] {
            if address.trim().is_empty() {
                return Err(invalid(
                    setting,
                    "must be a ZeroMQ address such as tcp://127.0.0.1:6273",
                ));
            }
        }
        for (setting, timeout) in [
            ("admissionTimeout", self.admission_timeout),
            ("pulseTimeout", self.pulse_timeout),
            ("sendTimeout", self.send_timeout),
        ] {
            if timeout.is_zero() {
                return Err(invalid(setting, "must be a positive number of seconds"));
            }
            if timeout > MAX_TIMEOUT {
                return Err(invalid(
                    setting,
                    "must be at most 2147483 seconds (ZeroMQ's limit)",
                ));
            }
        }
        if let Some(key) = &self.curve_server_key {
            crate::daemon::decode_curve_key(key).map_err(|e| invalid("curveServerKey", &e))?;
        }
        Ok(())
    }
}

fn invalid(setting: &str, message: &str) -> PulsarError {
    PulsarError::InvalidSetting {
        setting: setting.to_owned(),
        message: message.to_owned(),
    }
}

/// Seconds as a JSON number to a [`Duration`]; zero, negative, NaN, infinite or oversized values are refused.
fn seconds(setting: &str, value: f64) -> Result<Duration, PulsarError> {
    // Written so that NaN fails too: every comparison with NaN is false.
    if !(value > 0.0 && value <= MAX_TIMEOUT.as_secs_f64()) {
        return Err(PulsarError::InvalidSetting {
            setting: setting.to_owned(),
            message: format!("must be a positive number of seconds up to 2147483 (got {value})"),
        });
    }
    Ok(Duration::from_secs_f64(value))
}

/// The JSON shape of [`PerformerConfig`]: the original's setting names, timeouts as seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
struct PerformerConfigJson {
    #[serde(rename = "publisherPulsarSocketAddress")]
    publisher_pulsar_address: String,
    #[serde(rename = "pushPulsarSocketAddress")]
    push_pulsar_address: String,
    #[serde(rename = "requestPulsarRsSocketAddress")]
    request_pulsar_rs_address: String,
    module_name: String,
    admission_timeout: f64,
    pulse_timeout: f64,
    send_timeout: f64,
    curve_server_key: Option<String>,
}

impl Default for PerformerConfigJson {
    fn default() -> Self {
        PerformerConfig::default().into()
    }
}

impl From<PerformerConfig> for PerformerConfigJson {
    fn from(c: PerformerConfig) -> Self {
        PerformerConfigJson {
            publisher_pulsar_address: c.publisher_pulsar_address,
            push_pulsar_address: c.push_pulsar_address,
            request_pulsar_rs_address: c.request_pulsar_rs_address,
            module_name: c.module_name,
            admission_timeout: c.admission_timeout.as_secs_f64(),
            pulse_timeout: c.pulse_timeout.as_secs_f64(),
            send_timeout: c.send_timeout.as_secs_f64(),
            curve_server_key: c.curve_server_key,
        }
    }
}

impl TryFrom<PerformerConfigJson> for PerformerConfig {
    type Error = PulsarError;

    fn try_from(j: PerformerConfigJson) -> Result<Self, PulsarError> {
        let config = PerformerConfig {
            publisher_pulsar_address: j.publisher_pulsar_address,
            push_pulsar_address: j.push_pulsar_address,
            request_pulsar_rs_address: j.request_pulsar_rs_address,
            module_name: j.module_name,
            admission_timeout: seconds("admissionTimeout", j.admission_timeout)?,
            pulse_timeout: seconds("pulseTimeout", j.pulse_timeout)?,
            send_timeout: seconds("sendTimeout", j.send_timeout)?,
            curve_server_key: j.curve_server_key,
        };
        config.validate()?;
        Ok(config)
    }
}

/// Where the Performer is in its cycle; only guards the order of calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// No permission held: the next call should be [`Performer::wait_permission`].
    Idle,
    /// A pulse was received: the daemon now expects exactly one report from us.
    Granted,
}

/// A worker's connection to a Publisher Pulsar daemon. See the module docs for the cycle.
///
/// `Send` but not `Sync`: move it to the thread that uses it, never share it between threads.
///
/// Sockets are created once, in [`Performer::connect`], and reused by every iteration (the REQ socket is
/// replaced only after a timed-out admission). Connecting is lazy, as ZeroMQ's always is: a daemon started
/// after the worker still serves it.
pub struct Performer {
    config: PerformerConfig,
    context: zmq::Context,
    /// The admission link; `None` only if re-creating it after a timeout failed (retried on the next call).
    request: Option<zmq::Socket>,
    subscriber: zmq::Socket,
    push: zmq::Socket,
    step: Step,
    limits: Limits,
}

impl std::fmt::Debug for Performer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Performer")
            .field("config", &self.config)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

impl Performer {
    /// Validates the settings and creates the three sockets in a context of their own (one ZeroMQ I/O thread).
    pub fn connect(config: PerformerConfig) -> Result<Performer, PulsarError> {
        Performer::connect_in(config, &zmq::Context::new())
    }

    /// Like [`Performer::connect`], with sockets made in the given context, so that many Performers of one
    /// process share its I/O thread.
    pub fn connect_in(
        config: PerformerConfig,
        context: &zmq::Context,
    ) -> Result<Performer, PulsarError> {
        config.validate()?;
        let request = new_request_socket(context, &config)?;

        let subscriber = context
            .socket(zmq::SUB)
            .map_err(PulsarError::zmq("creating the SUB socket"))?;
        subscriber
            .set_linger(millis(LINGER))
            .map_err(PulsarError::zmq("setting LINGER on the SUB socket"))?;
        // Without IMMEDIATE, a SUB socket keeps its pipe across a lost connection: (un)subscriptions made while
        // the daemon is down queue there, and on reconnection they reach the new daemon on top of the ones
        // libzmq re-sends by itself. The daemon counts every subscription as a worker waiting for the pulse, so
        // one worker would count twice and hold the pulse back. With IMMEDIATE the pipe exists only while
        // connected, and a new connection carries exactly our current subscriptions.
        subscriber
            .set_immediate(true)
            .map_err(PulsarError::zmq("setting IMMEDIATE on the SUB socket"))?;
        curve_client(&subscriber, &config)?;
        connect(&subscriber, &config.publisher_pulsar_address)?;

        let push = context
            .socket(zmq::PUSH)
            .map_err(PulsarError::zmq("creating the PUSH socket"))?;
        push.set_linger(millis(LINGER))
            .map_err(PulsarError::zmq("setting LINGER on the PUSH socket"))?;
        push.set_sndtimeo(millis(config.send_timeout))
            .map_err(PulsarError::zmq("setting SNDTIMEO on the PUSH socket"))?;
        // Queue only on a live connection: a message must never wait in our queue for a daemon that died and
        // then reach its restarted successor, which would count a "ready" or an early termination that does not
        // belong to its iteration. While no connection is up, a send waits (up to send_timeout) for one.
        push.set_immediate(true)
            .map_err(PulsarError::zmq("setting IMMEDIATE on the PUSH socket"))?;
        curve_client(&push, &config)?;
        connect(&push, &config.push_pulsar_address)?;

        tracing::debug!(module = %config.module_name, "performer sockets created");
        Ok(Performer {
            config,
            context: context.clone(),
            request: Some(request),
            subscriber,
            push,
            step: Step::Idle,
            limits: Limits::default(),
        })
    }

    /// The settings in force.
    pub fn config(&self) -> &PerformerConfig {
        &self.config
    }

    /// Whether a pulse was received and its result is not reported yet.
    pub fn holds_permission(&self) -> bool {
        self.step == Step::Granted
    }

    /// Waits for permission to act: admission, subscription, pulse (the original's
    /// `connectToPulsarAndWaitPermissionToAct`). Returns the published pulse (its exact bytes and the parsed
    /// object: `PublisherToSubscribersDto` or the daemon's configured subclass).
    ///
    /// Errors: [`PulsarError::Timeout`] when admission or the pulse takes longer than configured (the daemon
    /// is down, or the queue is longer than the timeout allows); [`PulsarError::AdmissionRefused`];
    /// [`PulsarError::ActionNotAllowed`] when the pulse says `allowAction = false`; [`PulsarError::Protocol`]
    /// when the daemon sends something that is not the expected message. After any error the next call starts
    /// afresh. Called while still holding a permission (a result was never reported), it first tells the
    /// daemon not to wait for that result.
    pub fn wait_permission(&mut self) -> Result<Pulse, PulsarError> {
        if self.step == Step::Granted {
            tracing::warn!(
                module = %self.config.module_name,
                "asking for a new permission without reporting the last one; telling the daemon not to wait"
            );
            self.push_best_effort(&PerformerPush::EarlyTerminated {
                stand_on_subscription: true,
            });
        }
        self.step = Step::Idle;
        self.request_admission()?;
        // Right before subscribing, not before asking: the pulse after our last one may still have been on its
        // way while we waited for admission (our unsubscription had not reached the daemon yet). Read while
        // unsubscribed, the SUB socket drops it; read after subscribing, it would pass for our new pulse and
        // we would act a period early.
        self.discard_stale_pulses()?;

        self.subscriber
            .set_subscribe(b"")
            .map_err(PulsarError::zmq("subscribing to the pulse"))?;
        let outcome = self.receive_pulse();
        // The daemon counts one subscription per iteration and expects receivers to drop it right after their
        // pulse; on every path out of here we are done with this one.
        if let Err(source) = self.subscriber.set_unsubscribe(b"") {
            tracing::warn!(module = %self.config.module_name, %source, "cannot unsubscribe from the pulse");
        }
        let pulse = outcome?;
        self.step = Step::Granted;
        Ok(pulse)
    }

    /// Reports a successful action (the original's `pushActionResultInfoWithoutPulsarCorrectionBehavior`):
    /// `ActionResultingPushDto{actionCompleteCorrectly: true}`, all other fields null.
    pub fn report_success(&mut self) -> Result<(), PulsarError> {
        self.report(&ActionResult {
            action_complete_correctly: Some(true),
            ..ActionResult::default()
        })
    }

    /// Reports a rate-limit error: the daemon releases one worker fewer per pulse (or, at one, pauses longer
    /// before each pulse). `message` must not be empty: the daemon ignores errors without a message.
    pub fn report_slow_down(
        &mut self,
        message: impl Into<Vec<u8>>,
        reason: impl Into<Vec<u8>>,
    ) -> Result<(), PulsarError> {
        self.report_error(ActionResult {
            action_complete_correctly: Some(false),
            error_message: Some(message.into()),
            error_reason: Some(reason.into()),
            sleep_for_period: None,
            slow_down: Some(true),
        })
    }

    /// Reports an error that asks the daemon to stop pulsing for `micros` microseconds (the original's
    /// `ErrorSleepForPeriod`, e.g. a daily quota). `message` must not be empty.
    pub fn report_pause_for(
        &mut self,
        micros: u64,
        message: impl Into<Vec<u8>>,
        reason: impl Into<Vec<u8>>,
    ) -> Result<(), PulsarError> {
        if i64::try_from(micros).is_err() {
            return Err(invalid(
                "sleepPeriod",
                "must fit a PHP integer (at most 2^63 - 1 microseconds)",
            ));
        }
        self.report_error(ActionResult {
            action_complete_correctly: Some(false),
            error_message: Some(message.into()),
            error_reason: Some(reason.into()),
            sleep_for_period: Some(micros),
            slow_down: None,
        })
    }

    /// Reports any result (the original's `pushActionResultInfo`), sent exactly as given.
    ///
    /// Errors: [`PulsarError::OutOfOrder`] without a permission from [`Performer::wait_permission`];
    /// [`PulsarError::Timeout`] when the daemon is unreachable for `send_timeout`. Either way the permission
    /// is used up.
    pub fn report(&mut self, result: &ActionResult) -> Result<(), PulsarError> {
        self.take_permission("report a result")?;
        self.push(
            &PerformerPush::ActionResult(result.clone()),
            "sending the result (is the daemon running?)",
        )
    }

    /// Tells the daemon this worker ends early (`PerformerEarlyTerminated`). With `stand_on_subscription`
    /// true it gives back a permission received but not acted on, so the daemon need not wait for its result;
    /// that needs a permission held. With false it only informs (allowed at any time).
    pub fn report_early_termination(
        &mut self,
        stand_on_subscription: bool,
    ) -> Result<(), PulsarError> {
        if stand_on_subscription {
            self.take_permission("give back a permission")?;
        }
        self.push(
            &PerformerPush::EarlyTerminated {
                stand_on_subscription,
            },
            "sending the early termination (is the daemon running?)",
        )
    }

    fn report_error(&mut self, result: ActionResult) -> Result<(), PulsarError> {
        if !result.is_error() {
            // Checked before the permission is used up, so the caller can still report properly.
            return Err(invalid(
                "errorMessage",
                "must not be empty: the daemon ignores errors without a message",
            ));
        }
        self.report(&result)
    }

    /// Uses up the permission, or says why there is none.
    fn take_permission(&mut self, doing: &'static str) -> Result<(), PulsarError> {
        match self.step {
            Step::Granted => {
                self.step = Step::Idle;
                Ok(())
            }
            Step::Idle => {
                tracing::debug!(module = %self.config.module_name, doing, "no permission held");
                Err(PulsarError::OutOfOrder(
                    "no permission is held: call wait_permission first (each permission is reported once)",
                ))
            }
        }
    }

    /// Step 1: REQ `PreparingRequestDto`, wait for `BecomeTheSubscriberReplyDto`.
    fn request_admission(&mut self) -> Result<(), PulsarError> {
        let request = match self.request.take() {
            Some(socket) => socket,
            None => new_request_socket(&self.context, &self.config)?,
        };
        let timeout = self.config.admission_timeout;
        let reply =
            match send_and_wait_reply(&request, &PreparingRequest::default().encode(), timeout) {
                Ok(Some(reply)) => {
                    self.request = Some(request);
                    reply
                }
                outcome => {
                    // The REQ socket still waits for a reply that may never come, and refuses to send until then:
                    // drop it (and its unsent request, with no linger) and start the next call with a fresh one.
                    discard_request_socket(request);
                    self.request = new_request_socket(&self.context, &self.config).ok();
                    return match outcome {
                        Err(e) => Err(e),
                        Ok(_) => Err(PulsarError::Timeout {
                            what: "waiting for admission (is the daemon running?)",
                            after: timeout,
                        }),
                    };
                }
            };
        let reply = BecomeTheSubscriberReply::decode(&one_frame(reply)?)?;
        tracing::trace!(module = %self.config.module_name, allowed = reply.allow_to_start_subscription, "admission answered");
        if !reply.allow_to_start_subscription {
            return Err(PulsarError::AdmissionRefused);
        }
        Ok(())
    }

    /// Steps 2–3, with the subscription in place: PUSH ready, wait for the pulse, check it.
    fn receive_pulse(&mut self) -> Result<Pulse, PulsarError> {
        self.push(
            &PerformerPush::Ready,
            "sending readiness (is the daemon running?)",
        )?;
        tracing::trace!(module = %self.config.module_name, "subscribed and ready; waiting for the pulse");
        let timeout = self.config.pulse_timeout;
        let Some(frames) = recv_within(&self.subscriber, timeout)? else {
            // We are counted as ready: tell the daemon not to hold its pulse (or its result wait) for us.
            self.push_best_effort(&PerformerPush::EarlyTerminated {
                stand_on_subscription: true,
            });
            return Err(PulsarError::Timeout {
                what: "waiting for the pulse",
                after: timeout,
            });
        };
        let pulse = one_frame(frames).and_then(|bytes| Ok(Pulse::decode(&bytes, &self.limits)?));
        match pulse {
            Ok(pulse) if pulse.allow_action() => {
                tracing::trace!(module = %self.config.module_name, "pulse received");
                Ok(pulse)
            }
            outcome => {
                // We were released but will not act, so there will be no result: say so rather than let the
                // daemon wait its full result timeout for us.
                self.push_best_effort(&PerformerPush::EarlyTerminated {
                    stand_on_subscription: true,
                });
                match outcome {
                    Ok(_) => Err(PulsarError::ActionNotAllowed),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Drops pulses that reached the SUB socket after our last one or after an earlier wait gave up, so that
    /// an old pulse is never taken for the next one.
    fn discard_stale_pulses(&mut self) -> Result<(), PulsarError> {
        loop {
            match self.subscriber.recv_bytes(zmq::DONTWAIT) {
                Ok(_) => {
                    tracing::debug!(module = %self.config.module_name, "discarded a stale pulse")
                }
                Err(zmq::Error::EAGAIN) => return Ok(()),
                Err(zmq::Error::EINTR) => continue,
                Err(source) => {
                    return Err(PulsarError::Zmq {
                        context: "discarding stale pulses",
                        source,
                    })
                }
            }
        }
    }

    /// Sends one message on the PUSH socket, waiting at most `send_timeout`.
    fn push(&mut self, message: &PerformerPush, what: &'static str) -> Result<(), PulsarError> {
        let bytes = message.encode();
        loop {
            match self.push.send(&bytes[..], 0) {
                Ok(()) => return Ok(()),
                Err(zmq::Error::EINTR) => continue,
                Err(zmq::Error::EAGAIN) => {
                    return Err(PulsarError::Timeout {
                        what,
                        after: self.config.send_timeout,
                    })
                }
                Err(source) => {
                    return Err(PulsarError::Zmq {
                        context: "sending on the PUSH socket",
                        source,
                    })
                }
            }
        }
    }

    /// Sends without waiting; used on error paths and in `Drop`, where a lost message only costs the daemon a
    /// bounded wait.
    fn push_best_effort(&self, message: &PerformerPush) {
        if let Err(source) = self.push.send(message.encode(), zmq::DONTWAIT) {
            tracing::debug!(module = %self.config.module_name, %source, "best-effort push dropped");
        }
    }
}

impl Drop for Performer {
    /// Gives back a permission still held, without waiting. Closing the sockets then waits at most `LINGER`.
    fn drop(&mut self) {
        if self.step == Step::Granted {
            self.push_best_effort(&PerformerPush::EarlyTerminated {
                stand_on_subscription: true,
            });
        }
    }
}

/// Milliseconds for a ZeroMQ option, rounded up so that a sub-millisecond timeout never becomes "no wait"
/// (0) or "forever" (-1); [`PerformerConfig::validate`] keeps it in range.
fn millis(d: Duration) -> i32 {
    let ms = d.as_nanos().div_ceil(1_000_000).max(1);
    i32::try_from(ms).unwrap_or(i32::MAX)
}

/// Makes `socket` a CURVE client of the daemon when `curve_server_key` is set, with a fresh key pair (the
/// daemon does not check client keys; the pair only carries the encryption).
fn curve_client(socket: &zmq::Socket, config: &PerformerConfig) -> Result<(), PulsarError> {
    let Some(server) = &config.curve_server_key else {
        return Ok(());
    };
    let server =
        crate::daemon::decode_curve_key(server).map_err(|e| invalid("curveServerKey", &e))?;
    let pair = zmq::CurveKeyPair::new().map_err(PulsarError::zmq("making a CURVE key pair"))?;
    socket
        .set_curve_serverkey(&server)
        .map_err(PulsarError::zmq("setting CURVE_SERVERKEY"))?;
    socket
        .set_curve_publickey(&pair.public_key)
        .map_err(PulsarError::zmq("setting CURVE_PUBLICKEY"))?;
    socket
        .set_curve_secretkey(&pair.secret_key)
        .map_err(PulsarError::zmq("setting CURVE_SECRETKEY"))
}

fn connect(socket: &zmq::Socket, address: &str) -> Result<(), PulsarError> {
    socket
        .connect(address)
        .map_err(|source| PulsarError::Connect {
            address: address.to_owned(),
            source,
        })
}

fn new_request_socket(
    context: &zmq::Context,
    config: &PerformerConfig,
) -> Result<zmq::Socket, PulsarError> {
    let request = context
        .socket(zmq::REQ)
        .map_err(PulsarError::zmq("creating the REQ socket"))?;
    request
        .set_linger(millis(LINGER))
        .map_err(PulsarError::zmq("setting LINGER on the REQ socket"))?;
    request
        .set_sndtimeo(millis(config.send_timeout))
        .map_err(PulsarError::zmq("setting SNDTIMEO on the REQ socket"))?;
    curve_client(&request, config)?;
    connect(&request, &config.request_pulsar_rs_address)?;
    Ok(request)
}

/// Closes a REQ socket whose request went unanswered. No linger: a request still queued must not reach the
/// daemon later and admit a worker that no longer listens.
fn discard_request_socket(request: zmq::Socket) {
    if let Err(source) = request.set_linger(0) {
        tracing::debug!(%source, "cannot set LINGER 0 on a discarded REQ socket");
    }
    drop(request);
}

/// REQ round trip: `Ok(None)` if no reply came within `timeout` (the socket is then unusable).
fn send_and_wait_reply(
    request: &zmq::Socket,
    body: &[u8],
    timeout: Duration,
) -> Result<Option<Vec<Vec<u8>>>, PulsarError> {
    let started = Instant::now();
    loop {
        match request.send(body, 0) {
            Ok(()) => break,
            Err(zmq::Error::EINTR) => continue,
            // A REQ socket with a connected pipe queues at once; this only happens if libzmq cannot queue.
            Err(zmq::Error::EAGAIN) => return Ok(None),
            Err(source) => {
                return Err(PulsarError::Zmq {
                    context: "sending the admission request",
                    source,
                })
            }
        }
    }
    recv_within(request, timeout.saturating_sub(started.elapsed()))
}

/// Receives one whole message (all its frames) within `timeout`; `Ok(None)` if none came.
fn recv_within(
    socket: &zmq::Socket,
    timeout: Duration,
) -> Result<Option<Vec<Vec<u8>>>, PulsarError> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let left_ms = i64::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(i64::MAX);
        match socket.poll(zmq::POLLIN, left_ms) {
            Ok(0) => {
                if left.is_zero() {
                    return Ok(None);
                }
            }
            Ok(_) => match socket.recv_multipart(zmq::DONTWAIT) {
                Ok(frames) => return Ok(Some(frames)),
                // Readiness can be spurious; keep waiting for the rest of the time.
                Err(zmq::Error::EAGAIN) | Err(zmq::Error::EINTR) => {}
                Err(source) => {
                    return Err(PulsarError::Zmq {
                        context: "receiving",
                        source,
                    })
                }
            },
            Err(zmq::Error::EINTR) => {}
            Err(source) => {
                return Err(PulsarError::Zmq {
                    context: "polling",
                    source,
                })
            }
        }
        if Instant::now() >= deadline {
            // One last non-blocking look, so that a message that arrived just at the deadline is not lost.
            return match socket.recv_multipart(zmq::DONTWAIT) {
                Ok(frames) => Ok(Some(frames)),
                Err(_) => Ok(None),
            };
        }
    }
}

/// The protocol sends one frame per message (REQ strips the empty delimiter before us).
fn one_frame(mut frames: Vec<Vec<u8>>) -> Result<Vec<u8>, PulsarError> {
    if frames.len() != 1 {
        return Err(WireError::Unexpected(format!(
            "expected a message of one frame, got {} frames",
            frames.len()
        ))
        .into());
    }
    Ok(frames.pop().expect("length checked just above"))
}
