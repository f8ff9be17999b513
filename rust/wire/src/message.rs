//! The protocol's messages as Rust types (see the table in `shared/protocol/PROTOCOL.md`).
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

use crate::value::{self, Limits, Object, Property, Value, Visibility};
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

// ---- Class names and building blocks ----

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

/// The fully qualified name of a protocol class.
fn fq(short: &str) -> String {
    format!("{INVENTORY_NS}{short}")
}

/// A protocol object: every DTO property is protected in the original, hence the `\0*\0` names.
fn dto(short: &str, properties: &[(&str, Value)]) -> Object {
    Object {
        class: fq(short).into_bytes(),
        properties: properties
            .iter()
            .map(|(name, value)| Property {
                name: name.as_bytes().to_vec(),
                visibility: Visibility::Protected,
                value: value.clone(),
            })
            .collect(),
    }
}

fn encode_dto(short: &str, properties: &[(&str, Value)]) -> Vec<u8> {
    Value::Object(dto(short, properties)).to_bytes()
}

/// At most this many bytes of a peer's class name go into an error message (they end up in logs).
const MAX_NAME_IN_MESSAGE: usize = 120;

/// Log-safe rendering of peer-supplied bytes: printable ASCII as is (namespace backslashes stay readable),
/// everything else as `\xNN`, cut at a sane length.
fn printable(bytes: &[u8]) -> String {
    let cut = bytes.get(..MAX_NAME_IN_MESSAGE).unwrap_or(bytes);
    let mut text = String::with_capacity(cut.len() + 3);
    for &b in cut {
        if b.is_ascii_graphic() || b == b' ' {
            text.push(char::from(b));
        } else {
            text.push_str(&format!("\\x{b:02x}"));
        }
    }
    if cut.len() < bytes.len() {
        text.push_str("...");
    }
    text
}

/// What a value is, for error messages ("found ...").
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "a bool".to_owned(),
        Value::Int(_) => "an int".to_owned(),
        Value::Float(_) => "a float".to_owned(),
        Value::Str(_) => "a string".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(o) => format!("an object of class `{}`", printable(&o.class)),
    }
}

fn unexpected(expected: &str, found: &Value) -> WireError {
    WireError::Unexpected(format!("expected {expected}, found {}", describe(found)))
}

/// Parses a message whose top value must be an object (of any class).
fn parse_object(bytes: &[u8], limits: &Limits) -> Result<Object, WireError> {
    match value::parse(bytes, limits)? {
        Value::Object(object) => Ok(object),
        other => Err(unexpected("a serialized object", &other)),
    }
}

/// Parses a message whose top value must be an object of one of the protocol classes in `shorts`.
fn parse_dto(bytes: &[u8], shorts: &[&str]) -> Result<Object, WireError> {
    let object = parse_object(bytes, &Limits::default())?;
    if shorts.iter().any(|short| object.class_is(&fq(short))) {
        Ok(object)
    } else {
        Err(unexpected(&shorts.join(" or "), &Value::Object(object)))
    }
}

/// The property `name` (any visibility, via [`Object::get`]). PHP would keep the *last* of duplicate
/// properties while `get` finds the first, so a message naming one property twice is refused rather than read
/// differently from PHP.
fn field<'o>(object: &'o Object, name: &str) -> Result<Option<&'o Value>, WireError> {
    let count = object
        .properties
        .iter()
        .filter(|p| p.name == name.as_bytes())
        .count();
    if count > 1 {
        return Err(WireError::Unexpected(format!(
            "property `{name}` appears {count} times in `{}`",
            printable(&object.class)
        )));
    }
    Ok(object.get(name))
}

/// A boolean property: bool, or the ints 0/1 (PHP truthiness of what a loosely typed peer might send); null or
/// absent gives `default`.
fn bool_field(object: &Object, name: &str, default: bool) -> Result<bool, WireError> {
    Ok(opt_bool_field(object, name)?.unwrap_or(default))
}

/// Like [`bool_field`], with null or absent as `None`.
fn opt_bool_field(object: &Object, name: &str) -> Result<Option<bool>, WireError> {
    match field(object, name)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::Int(0)) => Ok(Some(false)),
        Some(Value::Int(1)) => Ok(Some(true)),
        Some(other) => Err(unexpected(&format!("`{name}` to be a bool"), other)),
    }
}

/// An integer property: an int only; absent gives `default`.
fn int_field(object: &Object, name: &str, default: i64) -> Result<i64, WireError> {
    match field(object, name)? {
        None => Ok(default),
        Some(Value::Int(i)) => Ok(*i),
        Some(other) => Err(unexpected(&format!("`{name}` to be an int"), other)),
    }
}

/// A text property of `ActionResultingPushDto`: strings as they are, scalars as PHP's string conversion, null
/// or absent as `None`.
fn text_field(object: &Object, name: &str) -> Result<Option<Vec<u8>>, WireError> {
    match field(object, name)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.clone())),
        Some(Value::Int(i)) => Ok(Some(i.to_string().into_bytes())),
        Some(Value::Float(f)) => Ok(Some(crate::float::to_php_string(*f))),
        Some(Value::Bool(b)) => Ok(Some(if *b { b"1".to_vec() } else { Vec::new() })),
        Some(other) => Err(unexpected(&format!("`{name}` to be a string"), other)),
    }
}

fn bool_value(b: bool) -> Value {
    Value::Bool(b)
}

fn opt_bytes(bytes: &Option<Vec<u8>>) -> Value {
    bytes
        .as_ref()
        .map_or(Value::Null, |b| Value::Str(b.clone()))
}

// ---- API contract ----

impl PreparingRequest {
    /// The original's bytes (vector 01 for the default).
    pub fn encode(&self) -> Vec<u8> {
        encode_dto(
            PREPARING_REQUEST,
            &[
                ("readyToAct", bool_value(self.ready_to_act)),
                (
                    "preparingErrorOccurred",
                    self.preparing_error_occurred.clone(),
                ),
            ],
        )
    }
    /// Strict decode with default [`Limits`].
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let object = parse_dto(bytes, &[PREPARING_REQUEST])?;
        Ok(PreparingRequest {
            ready_to_act: bool_field(&object, "readyToAct", true)?,
            preparing_error_occurred: field(&object, "preparingErrorOccurred")?
                .cloned()
                .unwrap_or(Value::Null),
        })
    }
}

impl Default for PreparingRequest {
    fn default() -> Self {
        PreparingRequest {
            ready_to_act: true,
            preparing_error_occurred: Value::Null,
        }
    }
}

impl Default for BecomeTheSubscriberReply {
    /// Admitted (`allowToStartSubscription` true), the property's default.
    fn default() -> Self {
        BecomeTheSubscriberReply {
            allow_to_start_subscription: true,
        }
    }
}

impl BecomeTheSubscriberReply {
    /// The original's bytes (vector 02 when allowed).
    pub fn encode(&self) -> Vec<u8> {
        Value::Object(self.to_object()).to_bytes()
    }
    /// Strict decode with default [`Limits`].
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        Self::from_object(&parse_dto(bytes, &[BECOME_THE_SUBSCRIBER_REPLY])?)
    }

    fn to_object(self) -> Object {
        dto(
            BECOME_THE_SUBSCRIBER_REPLY,
            &[(
                "allowToStartSubscription",
                bool_value(self.allow_to_start_subscription),
            )],
        )
    }

    /// Reads the properties of an object already known to be of this class.
    fn from_object(object: &Object) -> Result<Self, WireError> {
        Ok(BecomeTheSubscriberReply {
            allow_to_start_subscription: bool_field(object, "allowToStartSubscription", true)?,
        })
    }
}

impl PerformerPush {
    /// The original's bytes (vectors 05–11).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            PerformerPush::Ready => encode_dto(READY_TO_GET_SUBSCRIPTION, &[]),
            PerformerPush::ActionResult(result) => result.encode(),
            PerformerPush::EarlyTerminated {
                stand_on_subscription,
            } => encode_dto(
                PERFORMER_EARLY_TERMINATED,
                &[("standOnSubscription", bool_value(*stand_on_subscription))],
            ),
        }
    }
    /// Strict decode with default [`Limits`]; any other class is [`WireError::Unexpected`].
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let object = parse_dto(
            bytes,
            &[
                READY_TO_GET_SUBSCRIPTION,
                ACTION_RESULTING_PUSH,
                PERFORMER_EARLY_TERMINATED,
            ],
        )?;
        if object.class_is(&fq(READY_TO_GET_SUBSCRIPTION)) {
            Ok(PerformerPush::Ready)
        } else if object.class_is(&fq(PERFORMER_EARLY_TERMINATED)) {
            Ok(PerformerPush::EarlyTerminated {
                stand_on_subscription: bool_field(&object, "standOnSubscription", false)?,
            })
        } else {
            ActionResult::from_object(&object).map(PerformerPush::ActionResult)
        }
    }
}

impl ActionResult {
    /// Whether this result reports an error: `errorMessage` present and non-empty.
    pub fn is_error(&self) -> bool {
        self.error_message.as_ref().is_some_and(|m| !m.is_empty())
    }

    /// The original's bytes for this result (vectors 08–11). A `sleep_for_period` above `i64::MAX` µs (PHP's
    /// integer range; about 292 000 years) is written as `i64::MAX`.
    pub fn encode(&self) -> Vec<u8> {
        let sleep = match self.sleep_for_period {
            None => Value::Null,
            Some(micros) => Value::Object(dto(
                ERROR_SLEEP_FOR_PERIOD,
                &[(
                    "sleepPeriod",
                    Value::Int(i64::try_from(micros).unwrap_or(i64::MAX)),
                )],
            )),
        };
        encode_dto(
            ACTION_RESULTING_PUSH,
            &[
                (
                    "actionCompleteCorrectly",
                    self.action_complete_correctly
                        .map_or(Value::Null, Value::Bool),
                ),
                ("errorMessage", opt_bytes(&self.error_message)),
                ("errorReason", opt_bytes(&self.error_reason)),
                ("sleepForPeriod", sleep),
                ("slowDown", self.slow_down.map_or(Value::Null, Value::Bool)),
            ],
        )
    }

    /// Reads the properties of an object already known to be an `ActionResultingPushDto`.
    fn from_object(object: &Object) -> Result<Self, WireError> {
        Ok(ActionResult {
            action_complete_correctly: opt_bool_field(object, "actionCompleteCorrectly")?,
            error_message: text_field(object, "errorMessage")?,
            error_reason: text_field(object, "errorReason")?,
            sleep_for_period: sleep_for_period(object)?,
            // Any non-null value asks for a slow-down; the bool records its truthiness for the logs.
            slow_down: match field(object, "slowDown")? {
                None | Some(Value::Null) => None,
                Some(value) => Some(value.is_truthy()),
            },
        })
    }
}

/// `sleepForPeriod`: null or an `ErrorSleepForPeriod` whose `sleepPeriod` is a non-negative int (µs).
fn sleep_for_period(object: &Object) -> Result<Option<u64>, WireError> {
    let inner = match field(object, "sleepForPeriod")? {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(inner)) if inner.class_is(&fq(ERROR_SLEEP_FOR_PERIOD)) => inner,
        Some(other) => {
            return Err(unexpected(
                "`sleepForPeriod` to be null or an ErrorSleepForPeriod",
                other,
            ))
        }
    };
    match field(inner, "sleepPeriod")? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Int(micros)) => u64::try_from(*micros).map(Some).map_err(|_| {
            WireError::Unexpected(format!(
                "expected `sleepPeriod` to be a non-negative int, found {micros}"
            ))
        }),
        Some(other) => Err(unexpected("`sleepPeriod` to be an int", other)),
    }
}

impl Pulse {
    /// The default pulse, `PublisherToSubscribersDto{allowAction: true}` (vector 03).
    pub fn default_pulse() -> Pulse {
        Pulse::from_object(dto(
            PUBLISHER_TO_SUBSCRIBERS,
            &[("allowAction", Value::Bool(true))],
        ))
    }
    /// A pulse publishing `object`: its bytes are the object's `serialize()` form.
    pub fn from_object(object: Object) -> Pulse {
        Pulse {
            bytes: object.to_bytes(),
            object,
        }
    }
    /// Parses published bytes (ours, the original daemon's, or a configured subclass's). The top value must be
    /// an object; its class is not checked here (subclasses have any name).
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Pulse, WireError> {
        Ok(Pulse {
            object: parse_object(bytes, limits)?,
            bytes: bytes.to_vec(),
        })
    }
    /// `allowAction`, true when absent (the property's default).
    pub fn allow_action(&self) -> bool {
        self.object.get("allowAction").is_none_or(Value::is_truthy)
    }
}

impl ReplyStackRequest {
    /// The original's bytes (vectors 12, 13).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            ReplyStackRequest::GetTask => encode_dto(GET_TASK_REQUEST, &[]),
            ReplyStackRequest::ReturnResult {
                consider_me_as_subscriber,
            } => encode_dto(
                RETURN_RESULT_REQUEST,
                &[(
                    "considerMeAsSubscriber",
                    Value::Int(*consider_me_as_subscriber),
                )],
            ),
        }
    }
    /// Strict decode.
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let object = parse_dto(bytes, &[GET_TASK_REQUEST, RETURN_RESULT_REQUEST])?;
        if object.class_is(&fq(GET_TASK_REQUEST)) {
            Ok(ReplyStackRequest::GetTask)
        } else {
            Ok(ReplyStackRequest::ReturnResult {
                consider_me_as_subscriber: int_field(&object, "considerMeAsSubscriber", 0)?,
            })
        }
    }
}

impl PulsarReply {
    /// The original's bytes (vectors 14, 15).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            PulsarReply::Task {
                subscribers_number,
                dto_to_transfer,
            } => encode_dto(
                PULSAR_TO_REPLY_STACK_REPLY,
                &[
                    ("subscribersNumber", Value::Int(*subscribers_number)),
                    ("dtoToTransfer", Value::Object(dto_to_transfer.to_object())),
                ],
            ),
            PulsarReply::IterationFinish => encode_dto(PULSAR_ITERATION_FINISH, &[]),
        }
    }
    /// Strict decode.
    pub fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let object = parse_dto(
            bytes,
            &[PULSAR_TO_REPLY_STACK_REPLY, PULSAR_ITERATION_FINISH],
        )?;
        if object.class_is(&fq(PULSAR_ITERATION_FINISH)) {
            return Ok(PulsarReply::IterationFinish);
        }
        // `dtoToTransfer` absent or null: the reply a default-constructed original would hand out.
        let dto_to_transfer = match field(&object, "dtoToTransfer")? {
            None | Some(Value::Null) => BecomeTheSubscriberReply::default(),
            Some(Value::Object(inner)) if inner.class_is(&fq(BECOME_THE_SUBSCRIBER_REPLY)) => {
                BecomeTheSubscriberReply::from_object(inner)?
            }
            Some(other) => {
                return Err(unexpected(
                    "`dtoToTransfer` to be a BecomeTheSubscriberReplyDto",
                    other,
                ))
            }
        };
        Ok(PulsarReply::Task {
            subscribers_number: int_field(&object, "subscribersNumber", 0)?,
            dto_to_transfer,
        })
    }
}
