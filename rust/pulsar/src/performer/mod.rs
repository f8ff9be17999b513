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
//! same addresses (ZeroMQ reconnects by itself; a request lost with a daemon that died is sent again as soon as
//! the admission connection is back, see `admission`; a REQ socket whose request timed out is replaced, the
//! "lazy pirate" pattern, so that the request it still holds can never admit a worker that stopped listening).
//!
//! It must never decide anything about rates (that is the daemon's engine), never wait without a bound, and
//! never panic on what a peer sends.
//!
//! # Threads
//! A [`Performer`] is `Send` but not `Sync`: ZeroMQ sockets may move between threads but must not be used
//! from two threads at once. Give each worker thread its own Performer; share one [`zmq::Context`] between
//! them with [`Performer::connect_in`] to avoid one I/O thread per Performer.
//!
//! # Restarts
//! A daemon that restarts while the worker waits for admission gets the request again as soon as the
//! connection is back (well within a second). One that restarts while the worker waits for its pulse gets the
//! worker's live subscription from the reconnecting SUB socket; the new daemon counts it before it admits
//! anyone and serves it with its first pulse (`docs/protocol.md` §4, rule 14).
//!
//! # Modules
//! `config` holds the settings and their JSON form, `admission` the REQ link that resends after a restart,
//! `socket` the bounded receive every step shares.

mod admission;
mod config;
mod socket;

use pulsar_wire::{BecomeTheSubscriberReply, Limits, PerformerPush, PreparingRequest};

pub use config::PerformerConfig;
pub use pulsar_wire::{ActionResult, Pulse};

use crate::error::PulsarError;
use admission::AdmissionLink;
use config::invalid;
use socket::{connect, curve_client, millis, one_frame, recv_within, LINGER};

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
    admission: Option<AdmissionLink>,
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
        let admission = AdmissionLink::open(context, &config)?;

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
            admission: Some(admission),
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
        let mut link = match self.admission.take() {
            Some(link) => link,
            None => AdmissionLink::open(&self.context, &self.config)?,
        };
        let timeout = self.config.admission_timeout;
        let reply = match link.ask(&PreparingRequest::default().encode(), timeout) {
            Ok(Some(reply)) => {
                self.admission = Some(link);
                reply
            }
            outcome => {
                // The REQ socket still holds a request that may be answered later: drop it (and its unsent
                // request, with no linger) and start the next call with a fresh one.
                link.discard();
                self.admission = AdmissionLink::open(&self.context, &self.config).ok();
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
