//! What the typed decoders tolerate (what an original PHP peer could legitimately send) and what they refuse.

use pulsar_wire::value::{Limits, Object, Property, Value, Visibility};
use pulsar_wire::{
    ActionResult, BecomeTheSubscriberReply, PerformerPush, PreparingRequest, PulsarReply, Pulse,
    ReplyStackRequest, WireError, INVENTORY_NS,
};

fn object(class: &str, properties: Vec<(&str, Visibility, Value)>) -> Object {
    Object {
        class: class.as_bytes().to_vec(),
        properties: properties
            .into_iter()
            .map(|(name, visibility, value)| Property {
                name: name.as_bytes().to_vec(),
                visibility,
                value,
            })
            .collect(),
    }
}

/// A protocol class (short name) with public-style properties, serialized.
fn public(short: &str, properties: Vec<(&str, Value)>) -> Vec<u8> {
    protocol(short, Visibility::Public, properties)
}

/// A protocol class (short name) with protected properties, serialized, as the original writes it.
fn protected(short: &str, properties: Vec<(&str, Value)>) -> Vec<u8> {
    protocol(short, Visibility::Protected, properties)
}

fn protocol(short: &str, visibility: Visibility, properties: Vec<(&str, Value)>) -> Vec<u8> {
    let properties = properties
        .into_iter()
        .map(|(name, value)| (name, visibility.clone(), value))
        .collect();
    Value::Object(object(&format!("{INVENTORY_NS}{short}"), properties)).to_bytes()
}

fn sleep_object(class: &str, properties: Vec<(&str, Value)>) -> Value {
    Value::Object(object(
        class,
        properties
            .into_iter()
            .map(|(name, value)| (name, Visibility::Protected, value))
            .collect(),
    ))
}

fn s(text: &str) -> Value {
    Value::Str(text.as_bytes().to_vec())
}

fn action_result(properties: Vec<(&str, Value)>) -> Result<ActionResult, WireError> {
    match PerformerPush::decode(&protected("ActionResultingPushDto", properties))? {
        PerformerPush::ActionResult(result) => Ok(result),
        other => panic!("not an ActionResult: {other:?}"),
    }
}

fn assert_unexpected<T: std::fmt::Debug>(result: Result<T, WireError>, mentions: &str) {
    match result {
        Err(WireError::Unexpected(message)) => assert!(
            message.contains(mentions),
            "message {message:?} should mention {mentions:?}"
        ),
        other => panic!("expected Unexpected mentioning {mentions:?}, got {other:?}"),
    }
}

// ---- Names, classes, missing and extra properties ----

#[test]
fn public_style_property_names() {
    let bytes = public(
        "PreparingRequestDto",
        vec![
            ("readyToAct", Value::Bool(false)),
            ("preparingErrorOccurred", s("boom")),
        ],
    );
    assert_eq!(
        PreparingRequest::decode(&bytes),
        Ok(PreparingRequest {
            ready_to_act: false,
            preparing_error_occurred: s("boom"),
        })
    );
}

#[test]
fn private_style_property_names_are_read_too() {
    let class = format!("{INVENTORY_NS}BecomeTheSubscriberReplyDto");
    let bytes = Value::Object(object(
        &class,
        vec![(
            "allowToStartSubscription",
            Visibility::Private(class.as_bytes().to_vec()),
            Value::Bool(false),
        )],
    ))
    .to_bytes();
    assert_eq!(
        BecomeTheSubscriberReply::decode(&bytes),
        Ok(BecomeTheSubscriberReply {
            allow_to_start_subscription: false
        })
    );
}

#[test]
fn missing_properties_take_their_defaults() {
    assert_eq!(
        PreparingRequest::decode(&protected("PreparingRequestDto", vec![])),
        Ok(PreparingRequest::default())
    );
    assert_eq!(
        BecomeTheSubscriberReply::decode(&protected("BecomeTheSubscriberReplyDto", vec![])),
        Ok(BecomeTheSubscriberReply {
            allow_to_start_subscription: true
        })
    );
    assert_eq!(
        PerformerPush::decode(&protected("PerformerEarlyTerminated", vec![])),
        Ok(PerformerPush::EarlyTerminated {
            stand_on_subscription: false
        })
    );
    assert_eq!(action_result(vec![]), Ok(ActionResult::default()));
    assert_eq!(
        ReplyStackRequest::decode(&protected(
            "ReplyStackToPulsarReturnResultRequestDto",
            vec![]
        )),
        Ok(ReplyStackRequest::ReturnResult {
            consider_me_as_subscriber: 0
        })
    );
    assert_eq!(
        PulsarReply::decode(&protected("PulsarToReplyStackReplyDto", vec![])),
        Ok(PulsarReply::Task {
            subscribers_number: 0,
            dto_to_transfer: BecomeTheSubscriberReply {
                allow_to_start_subscription: true
            },
        })
    );
}

#[test]
fn null_booleans_take_their_defaults() {
    assert_eq!(
        PreparingRequest::decode(&protected(
            "PreparingRequestDto",
            vec![("readyToAct", Value::Null)]
        )),
        Ok(PreparingRequest::default())
    );
    assert_eq!(
        PerformerPush::decode(&protected(
            "PerformerEarlyTerminated",
            vec![("standOnSubscription", Value::Null)]
        )),
        Ok(PerformerPush::EarlyTerminated {
            stand_on_subscription: false
        })
    );
}

#[test]
fn class_names_in_any_ascii_case() {
    let bytes = Value::Object(object(
        "react\\publisherpulsar\\inventory\\READYTOGETSUBSCRIPTIONMSG",
        vec![],
    ))
    .to_bytes();
    assert_eq!(PerformerPush::decode(&bytes), Ok(PerformerPush::Ready));
}

#[test]
fn leading_backslash_in_the_class_name() {
    let bytes = Value::Object(object(
        &format!("\\{INVENTORY_NS}PulsarIterationFinish"),
        vec![],
    ))
    .to_bytes();
    assert_eq!(
        PulsarReply::decode(&bytes),
        Ok(PulsarReply::IterationFinish)
    );
}

#[test]
fn extra_properties_are_ignored() {
    let bytes = protected(
        "ReplyStackToPulsarReturnResultRequestDto",
        vec![
            ("somethingNew", Value::Array(vec![])),
            ("considerMeAsSubscriber", Value::Int(3)),
            ("another", s("x")),
        ],
    );
    assert_eq!(
        ReplyStackRequest::decode(&bytes),
        Ok(ReplyStackRequest::ReturnResult {
            consider_me_as_subscriber: 3
        })
    );
}

#[test]
fn duplicate_properties_are_refused() {
    // PHP keeps the last of two same-named properties; rather than guess, we refuse.
    let bytes = protected(
        "PerformerEarlyTerminated",
        vec![
            ("standOnSubscription", Value::Bool(false)),
            ("standOnSubscription", Value::Bool(true)),
        ],
    );
    assert_unexpected(PerformerPush::decode(&bytes), "standOnSubscription");
}

#[test]
fn a_different_class_is_unexpected_and_named() {
    let bytes = Value::Object(object("Evil\\Gadget", vec![])).to_bytes();
    assert_unexpected(
        PreparingRequest::decode(&bytes),
        "found an object of class `Evil\\Gadget`",
    );
    assert_unexpected(
        PerformerPush::decode(&bytes),
        "found an object of class `Evil\\Gadget`",
    );
    assert_unexpected(BecomeTheSubscriberReply::decode(&bytes), "Evil");
    assert_unexpected(ReplyStackRequest::decode(&bytes), "Evil");
    assert_unexpected(PulsarReply::decode(&bytes), "Evil");
    // The right short name in another namespace is another class.
    let bytes = Value::Object(object("Other\\ReadyToGetSubscriptionMsg", vec![])).to_bytes();
    assert_unexpected(PerformerPush::decode(&bytes), "Other");
}

#[test]
fn a_non_object_is_unexpected_and_named() {
    assert_unexpected(PerformerPush::decode(b"i:5;"), "an int");
    assert_unexpected(PreparingRequest::decode(b"N;"), "null");
    assert_unexpected(PulsarReply::decode(b"a:0:{}"), "an array");
    assert_unexpected(ReplyStackRequest::decode(b"s:1:\"x\";"), "a string");
    assert_unexpected(Pulse::decode(b"b:1;", &Limits::default()), "a bool");
}

#[test]
fn long_class_names_are_cut_in_messages() {
    let class = "A".repeat(10_000);
    let bytes = Value::Object(object(&class, vec![])).to_bytes();
    match PerformerPush::decode(&bytes) {
        Err(WireError::Unexpected(message)) => assert!(message.len() < 500, "{}", message.len()),
        other => panic!("{other:?}"),
    }
}

// ---- Booleans and integers ----

#[test]
fn booleans_accept_ints_zero_and_one() {
    for (value, want) in [(Value::Int(0), false), (Value::Int(1), true)] {
        assert_eq!(
            BecomeTheSubscriberReply::decode(&protected(
                "BecomeTheSubscriberReplyDto",
                vec![("allowToStartSubscription", value)]
            )),
            Ok(BecomeTheSubscriberReply {
                allow_to_start_subscription: want
            })
        );
    }
}

#[test]
fn booleans_refuse_other_values() {
    for value in [
        Value::Int(2),
        s("1"),
        Value::Float(1.0),
        Value::Array(vec![]),
    ] {
        assert_unexpected(
            PreparingRequest::decode(&protected(
                "PreparingRequestDto",
                vec![("readyToAct", value)],
            )),
            "readyToAct",
        );
    }
    assert_unexpected(
        action_result(vec![("actionCompleteCorrectly", s("yes"))]),
        "actionCompleteCorrectly",
    );
}

#[test]
fn integers_must_be_ints() {
    for value in [s("10"), Value::Null, Value::Float(10.0), Value::Bool(true)] {
        assert_unexpected(
            PulsarReply::decode(&protected(
                "PulsarToReplyStackReplyDto",
                vec![("subscribersNumber", value.clone())],
            )),
            "subscribersNumber",
        );
        assert_unexpected(
            ReplyStackRequest::decode(&protected(
                "ReplyStackToPulsarReturnResultRequestDto",
                vec![("considerMeAsSubscriber", value)],
            )),
            "considerMeAsSubscriber",
        );
    }
}

#[test]
fn dto_to_transfer_is_read_and_checked() {
    let refused = sleep_object(
        &format!("{INVENTORY_NS}becomethesubscriberreplydto"),
        vec![("allowToStartSubscription", Value::Bool(false))],
    );
    assert_eq!(
        PulsarReply::decode(&protected(
            "PulsarToReplyStackReplyDto",
            vec![
                ("subscribersNumber", Value::Int(2)),
                ("dtoToTransfer", refused)
            ]
        )),
        Ok(PulsarReply::Task {
            subscribers_number: 2,
            dto_to_transfer: BecomeTheSubscriberReply {
                allow_to_start_subscription: false
            }
        })
    );
    assert_unexpected(
        PulsarReply::decode(&protected(
            "PulsarToReplyStackReplyDto",
            vec![("dtoToTransfer", sleep_object("Nope", vec![]))],
        )),
        "dtoToTransfer",
    );
    assert_unexpected(
        PulsarReply::decode(&protected(
            "PulsarToReplyStackReplyDto",
            vec![("dtoToTransfer", Value::Bool(true))],
        )),
        "dtoToTransfer",
    );
}

// ---- ActionResultingPushDto ----

#[test]
fn error_texts_from_scalars_use_php_string_conversion() {
    for (value, want) in [
        (s("msg"), Some(&b"msg"[..])),
        (Value::Null, None),
        (Value::Int(-42), Some(b"-42")),
        (Value::Float(1.5), Some(b"1.5")),
        (Value::Float(0.1 + 0.2), Some(b"0.3")),
        (Value::Bool(true), Some(b"1")),
        (Value::Bool(false), Some(b"")),
    ] {
        let result = action_result(vec![
            ("errorMessage", value.clone()),
            ("errorReason", value.clone()),
        ])
        .expect("decodes");
        assert_eq!(result.error_message.as_deref(), want, "{value:?}");
        assert_eq!(result.error_reason.as_deref(), want, "{value:?}");
    }
    // false is the empty string: not an error.
    assert!(!action_result(vec![("errorMessage", Value::Bool(false))])
        .expect("decodes")
        .is_error());
}

#[test]
fn error_texts_refuse_arrays_and_objects() {
    assert_unexpected(
        action_result(vec![("errorMessage", Value::Array(vec![]))]),
        "errorMessage",
    );
    assert_unexpected(
        action_result(vec![("errorReason", sleep_object("X", vec![]))]),
        "errorReason",
    );
}

#[test]
fn slow_down_is_set_by_any_non_null_value_with_php_truthiness() {
    let falsy = [
        Value::Bool(false),
        Value::Int(0),
        Value::Float(0.0),
        Value::Float(-0.0),
        s(""),
        s("0"),
        Value::Array(vec![]),
    ];
    for value in falsy {
        let result = action_result(vec![("slowDown", value.clone())]).expect("decodes");
        assert_eq!(result.slow_down, Some(false), "{value:?}");
    }
    let truthy = [
        Value::Bool(true),
        Value::Int(-1),
        Value::Float(f64::NAN),
        s("0.0"),
        s("false"),
        Value::Array(vec![(pulsar_wire::Key::Int(0), Value::Null)]),
        sleep_object("Any", vec![]),
    ];
    for value in truthy {
        let result = action_result(vec![("slowDown", value.clone())]).expect("decodes");
        assert_eq!(result.slow_down, Some(true), "{value:?}");
    }
    assert_eq!(
        action_result(vec![("slowDown", Value::Null)])
            .expect("decodes")
            .slow_down,
        None
    );
}

#[test]
fn sleep_for_period_rules() {
    let sleep = |properties: Vec<(&str, Value)>| {
        action_result(vec![(
            "sleepForPeriod",
            sleep_object(&format!("{INVENTORY_NS}ErrorSleepForPeriod"), properties),
        )])
    };
    assert_eq!(
        sleep(vec![("sleepPeriod", Value::Int(5))]).map(|r| r.sleep_for_period),
        Ok(Some(5))
    );
    assert_eq!(
        sleep(vec![("sleepPeriod", Value::Int(i64::MAX))]).map(|r| r.sleep_for_period),
        Ok(Some(i64::MAX as u64))
    );
    assert_eq!(
        sleep(vec![("sleepPeriod", Value::Int(0))]).map(|r| r.sleep_for_period),
        Ok(Some(0))
    );
    // A missing or null period is no period.
    assert_eq!(sleep(vec![]).map(|r| r.sleep_for_period), Ok(None));
    assert_eq!(
        sleep(vec![("sleepPeriod", Value::Null)]).map(|r| r.sleep_for_period),
        Ok(None)
    );
    assert_unexpected(sleep(vec![("sleepPeriod", Value::Int(-1))]), "sleepPeriod");
    assert_unexpected(sleep(vec![("sleepPeriod", s("5"))]), "sleepPeriod");
    assert_unexpected(
        sleep(vec![("sleepPeriod", Value::Float(5.0))]),
        "sleepPeriod",
    );
    // Class name in any case, but it must be that class.
    assert_eq!(
        action_result(vec![(
            "sleepForPeriod",
            sleep_object(
                &format!("{}errorsleepforperiod", INVENTORY_NS.to_lowercase()),
                vec![("sleepPeriod", Value::Int(7))]
            ),
        )])
        .map(|r| r.sleep_for_period),
        Ok(Some(7))
    );
    assert_unexpected(
        action_result(vec![(
            "sleepForPeriod",
            sleep_object("ErrorSleepForPeriod", vec![("sleepPeriod", Value::Int(7))]),
        )]),
        "sleepForPeriod",
    );
    assert_unexpected(
        action_result(vec![("sleepForPeriod", Value::Int(7))]),
        "sleepForPeriod",
    );
}

#[test]
fn action_result_encode_round_trips() {
    let result = ActionResult {
        action_complete_correctly: None,
        error_message: Some(b"\0bytes\"and;quotes}".to_vec()),
        error_reason: Some(Vec::new()),
        sleep_for_period: Some(12),
        slow_down: Some(false),
    };
    let push = PerformerPush::ActionResult(result);
    assert_eq!(PerformerPush::decode(&push.encode()), Ok(push));
}

#[test]
fn sleep_periods_beyond_php_ints_are_written_as_the_largest_int() {
    let push = PerformerPush::ActionResult(ActionResult {
        sleep_for_period: Some(u64::MAX),
        ..ActionResult::default()
    });
    let Ok(PerformerPush::ActionResult(back)) = PerformerPush::decode(&push.encode()) else {
        panic!("decodes");
    };
    assert_eq!(back.sleep_for_period, Some(i64::MAX as u64));
}

#[test]
fn every_typed_value_round_trips() {
    for ready in [true, false] {
        for error in [Value::Null, s("e"), Value::Int(3)] {
            let request = PreparingRequest {
                ready_to_act: ready,
                preparing_error_occurred: error.clone(),
            };
            assert_eq!(PreparingRequest::decode(&request.encode()), Ok(request));
        }
        let reply = BecomeTheSubscriberReply {
            allow_to_start_subscription: ready,
        };
        assert_eq!(BecomeTheSubscriberReply::decode(&reply.encode()), Ok(reply));
        let push = PerformerPush::EarlyTerminated {
            stand_on_subscription: ready,
        };
        assert_eq!(PerformerPush::decode(&push.encode()), Ok(push));
        let task = PulsarReply::Task {
            subscribers_number: -3,
            dto_to_transfer: reply,
        };
        assert_eq!(PulsarReply::decode(&task.encode()), Ok(task));
    }
    for n in [i64::MIN, -1, 0, 1, i64::MAX] {
        let request = ReplyStackRequest::ReturnResult {
            consider_me_as_subscriber: n,
        };
        assert_eq!(ReplyStackRequest::decode(&request.encode()), Ok(request));
    }
}

// ---- Pulse ----

#[test]
fn pulse_allow_action() {
    let pulse = |properties: Vec<(&str, Value)>| {
        let bytes = Value::Object(object(
            "My\\Pulse",
            properties
                .into_iter()
                .map(|(n, v)| (n, Visibility::Protected, v))
                .collect(),
        ))
        .to_bytes();
        Pulse::decode(&bytes, &Limits::default()).expect("any object is a pulse")
    };
    assert!(pulse(vec![]).allow_action());
    assert!(pulse(vec![("allowAction", Value::Bool(true))]).allow_action());
    assert!(!pulse(vec![("allowAction", Value::Bool(false))]).allow_action());
    assert!(!pulse(vec![("allowAction", Value::Int(0))]).allow_action());
    assert!(!pulse(vec![("allowAction", s("0"))]).allow_action());
    assert!(!pulse(vec![("allowAction", Value::Null)]).allow_action());
    assert!(pulse(vec![("allowAction", s("yes"))]).allow_action());
}

#[test]
fn pulse_decode_keeps_exact_bytes_and_honours_limits() {
    let bytes = Value::Object(object(
        "X",
        vec![("allowAction", Visibility::Public, Value::Bool(false))],
    ))
    .to_bytes();
    let pulse = Pulse::decode(&bytes, &Limits::default()).expect("decodes");
    assert_eq!(pulse.bytes, bytes);
    assert!(!pulse.allow_action());
    let tight = Limits {
        max_input: 10,
        ..Limits::default()
    };
    assert!(matches!(
        Pulse::decode(&bytes, &tight),
        Err(WireError::Limit { offset: 0, .. })
    ));
}

#[test]
fn pulse_from_object_serializes_it() {
    let custom = object(
        "PulsarHarness\\CustomPublisherToSubscribersDto",
        vec![
            ("allowAction", Visibility::Protected, Value::Bool(true)),
            ("command", Visibility::Public, s("slow-down-please")),
            ("secretToken", Visibility::Protected, s("t0ken")),
        ],
    );
    let pulse = Pulse::from_object(custom);
    let path = format!(
        "{}/tests/vectors/04_CustomPublisherToSubscribersDto.bin",
        env!("CARGO_MANIFEST_DIR")
    );
    assert_eq!(pulse.bytes, std::fs::read(path).expect("vector 04"));
}
