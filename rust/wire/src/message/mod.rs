//! The protocol's messages as Rust types (see the table in `docs/protocol.md`).
//!
//! `encode()` gives exactly the bytes the original PHP library sends (the golden vectors). `decode()` accepts
//! what an original PHP peer could legitimately send (protected or public-style property names, missing
//! properties take their defaults, class names in any ASCII case) and rejects everything else with a
//! [`WireError`]; it never instantiates anything and never panics.
//!
//! Decoding rules, field by field (each class name is compared ASCII-case-insensitively in [`INVENTORY_NS`]):
//! - booleans (`readyToAct`, `allowToStartSubscription`, `standOnSubscription`, `actionCompleteCorrectly`):
//!   `b:`, or the ints 0/1; null or absent is the default; anything else is [`WireError::Unexpected`];
//! - integers (`subscribersNumber`, `considerMeAsSubscriber`): `i:` only; absent is 0;
//! - `errorMessage` / `errorReason`: strings as bytes; ints, floats and bools as PHP's `(string)` of them;
//!   null or absent is `None`; arrays and objects are refused;
//! - `slowDown`: null or absent is `None`, anything else `Some(PHP truthiness)`;
//! - `sleepForPeriod`: null, or an `ErrorSleepForPeriod` whose `sleepPeriod` is a non-negative int (absent or
//!   null inside means `None`);
//! - `dtoToTransfer`: a `BecomeTheSubscriberReplyDto`, or null/absent for the default reply;
//! - unknown properties are ignored; a property named twice is refused, because PHP keeps the last one and
//!   [`Object::get`] finds the first: rather than read a message differently from PHP, we drop it.
//!
//! This module must never: accept a class outside the protocol where a protocol message is expected, guess
//! at a value of the wrong type, or put unbounded peer bytes into an error message (class names are cut and
//! escaped).
//!
//! Layout: this file holds the message types and the protocol's class names; `fields` the building blocks
//! (DTO objects, field readers with the rules above); `codec` each message's `encode()` and `decode()`.

mod codec;
mod fields;

#[cfg(doc)]
use crate::value::Limits;
use crate::value::{Object, Value};
#[cfg(doc)]
use crate::WireError;

/// Namespace of every protocol DTO.
pub const INVENTORY_NS: &str = "React\\PublisherPulsar\\Inventory\\";

/// `PreparingRequestDto`: Performer → admission desk ("admit me to the next pulse"). REQ→REP, base+5.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparingRequest {
    /// `readyToAct` (default true).
    pub ready_to_act: bool,
    /// `preparingErrorOccurred` (default null); kept as a value, only logged.
    pub preparing_error_occurred: Value,
}

/// `BecomeTheSubscriberReplyDto`: admission desk → Performer ("you are admitted: subscribe").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BecomeTheSubscriberReply {
    /// `allowToStartSubscription` (default true). False means the request was refused.
    pub allow_to_start_subscription: bool,
}

/// `ActionResultingPushDto`: Performer → Pulsar after acting. PUSH→PULL, base+4.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ActionResult {
    /// `actionCompleteCorrectly`.
    pub action_complete_correctly: Option<bool>,
    /// `errorMessage`: the result is an error only when this is non-empty.
    pub error_message: Option<Vec<u8>>,
    /// `errorReason`.
    pub error_reason: Option<Vec<u8>>,
    /// `sleepForPeriod`: `ErrorSleepForPeriod::sleepPeriod` in microseconds, if the object is present.
    pub sleep_for_period: Option<u64>,
    /// `slowDown`: `Some` whenever the property is not null (even `false` asks for a slow-down, as in the
    /// original); the bool is PHP's truthiness of the value.
    pub slow_down: Option<bool>,
}

/// Everything a Performer PUSHes to the Pulsar's PULL socket (base+4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PerformerPush {
    /// `ReadyToGetSubscriptionMsg`: "I am subscribed".
    Ready,
    /// `ActionResultingPushDto`.
    ActionResult(ActionResult),
    /// `PerformerEarlyTerminated`: a worker ending while subscribed (`true`) or not (`false`).
    EarlyTerminated {
        /// `standOnSubscription` (default false).
        stand_on_subscription: bool,
    },
}

/// The pulse published to subscribers (base+3): `PublisherToSubscribersDto` or a user subclass.
///
/// The bytes are carried exactly as configured; the parsed object is there to read `allowAction` and the
/// subclass's own properties.
#[derive(Debug, Clone, PartialEq)]
pub struct Pulse {
    /// The exact published bytes.
    pub bytes: Vec<u8>,
    /// The same bytes, parsed.
    pub object: Object,
}

/// ReplyStack → Pulsar requests on base+1 (the original's internal link; kept for completeness and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyStackRequest {
    /// `ReplyStackToPulsarGetTaskRequestDto`: "next iteration?"
    GetTask,
    /// `ReplyStackToPulsarReturnResultRequestDto`: "I admitted this many".
    ReturnResult {
        /// `considerMeAsSubscriber`.
        consider_me_as_subscriber: i64,
    },
}

/// Pulsar → ReplyStack replies on base+1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PulsarReply {
    /// `PulsarToReplyStackReplyDto`: "admit this many, handing out this reply".
    Task {
        /// `subscribersNumber`.
        subscribers_number: i64,
        /// `dtoToTransfer`.
        dto_to_transfer: BecomeTheSubscriberReply,
    },
    /// `PulsarIterationFinish`: "iteration over".
    IterationFinish,
}

// ---- Class names (shared by `fields` and `codec`) ----

const PREPARING_REQUEST: &str = "PreparingRequestDto";
const BECOME_THE_SUBSCRIBER_REPLY: &str = "BecomeTheSubscriberReplyDto";
const PUBLISHER_TO_SUBSCRIBERS: &str = "PublisherToSubscribersDto";
const READY_TO_GET_SUBSCRIPTION: &str = "ReadyToGetSubscriptionMsg";
const ACTION_RESULTING_PUSH: &str = "ActionResultingPushDto";
const ERROR_SLEEP_FOR_PERIOD: &str = "ErrorSleepForPeriod";
const PERFORMER_EARLY_TERMINATED: &str = "PerformerEarlyTerminated";
const GET_TASK_REQUEST: &str = "ReplyStackToPulsarGetTaskRequestDto";
const RETURN_RESULT_REQUEST: &str = "ReplyStackToPulsarReturnResultRequestDto";
const PULSAR_TO_REPLY_STACK_REPLY: &str = "PulsarToReplyStackReplyDto";
const PULSAR_ITERATION_FINISH: &str = "PulsarIterationFinish";
