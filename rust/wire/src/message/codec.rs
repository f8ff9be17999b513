//! `encode()` and `decode()` of each protocol message: the original's bytes out, what an original peer could
//! send in.
//!
//! It must never accept a class outside the protocol where a protocol message is expected, nor encode anything
//! but the bytes of the golden vectors (`rust/wire/tests/vectors/`).

use super::fields::*;
use super::*;
use crate::value::{Limits, Object, Value};
use crate::WireError;

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
