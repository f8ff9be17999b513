//! Golden vectors: the exact bytes the original PHP library sends (captured on PHP 8.2).
//!
//! The vectors are read from the in-repo copy `tests/vectors/`, so these tests never depend on a folder outside
//! the repository. `in_repo_copy_matches_reference` checks that copy, file for file, against another capture
//! when `$PULSAR_VECTORS_REFERENCE` names its folder (e.g. vectors captured anew from the original library).

use std::path::PathBuf;

use pulsar_wire::value::{self, Limits, Value, Visibility};
use pulsar_wire::{
    ActionResult, BecomeTheSubscriberReply, PerformerPush, PreparingRequest, PulsarReply, Pulse,
    ReplyStackRequest, WireError, INVENTORY_NS,
};

/// What each vector decodes to.
#[derive(Debug)]
enum Expected {
    Preparing(PreparingRequest),
    Become(BecomeTheSubscriberReply),
    /// A pulse: its class and `allowAction`.
    Pulse(&'static str, bool),
    Push(PerformerPush),
    Request(ReplyStackRequest),
    Reply(PulsarReply),
}

const UKRAINIAN: &str = "Перевищено ліміт запитів користувача: спробуйте пізніше";

/// The 15 vectors: file name, length from the manifest, decoded value.
fn vectors() -> Vec<(&'static str, usize, Expected)> {
    let rate_limit = |message: &str| ActionResult {
        action_complete_correctly: Some(false),
        error_message: Some(message.as_bytes().to_vec()),
        error_reason: Some(b"userRateLimitExceeded".to_vec()),
        sleep_for_period: None,
        slow_down: Some(true),
    };
    vec![
        (
            "01_PreparingRequestDto.bin",
            123,
            Expected::Preparing(PreparingRequest::default()),
        ),
        (
            "02_BecomeTheSubscriberReplyDto.bin",
            110,
            Expected::Become(BecomeTheSubscriberReply {
                allow_to_start_subscription: true,
            }),
        ),
        (
            "03_PublisherToSubscribersDto.bin",
            95,
            Expected::Pulse(
                "React\\PublisherPulsar\\Inventory\\PublisherToSubscribersDto",
                true,
            ),
        ),
        (
            "04_CustomPublisherToSubscribersDto.bin",
            155,
            Expected::Pulse("PulsarHarness\\CustomPublisherToSubscribersDto", true),
        ),
        (
            "05_ReadyToGetSubscriptionMsg.bin",
            69,
            Expected::Push(PerformerPush::Ready),
        ),
        (
            "06_PerformerEarlyTerminated_standOnSubscription_true.bin",
            102,
            Expected::Push(PerformerPush::EarlyTerminated {
                stand_on_subscription: true,
            }),
        ),
        (
            "07_PerformerEarlyTerminated_standOnSubscription_false.bin",
            102,
            Expected::Push(PerformerPush::EarlyTerminated {
                stand_on_subscription: false,
            }),
        ),
        (
            "08_ActionResultingPushDto_success.bin",
            201,
            Expected::Push(PerformerPush::ActionResult(ActionResult {
                action_complete_correctly: Some(true),
                ..ActionResult::default()
            })),
        ),
        (
            "09_ActionResultingPushDto_slowDown_ascii.bin",
            260,
            Expected::Push(PerformerPush::ActionResult(rate_limit(
                "User Rate Limit Exceeded",
            ))),
        ),
        (
            "10_ActionResultingPushDto_slowDown_ukrainian.bin",
            341,
            Expected::Push(PerformerPush::ActionResult(rate_limit(UKRAINIAN))),
        ),
        (
            "11_ActionResultingPushDto_sleepForPeriod_3600000000.bin",
            347,
            Expected::Push(PerformerPush::ActionResult(ActionResult {
                action_complete_correctly: Some(false),
                error_message: Some(b"Daily Limit Exceeded".to_vec()),
                error_reason: Some(b"dailyLimitExceeded".to_vec()),
                sleep_for_period: Some(3_600_000_000),
                slow_down: None,
            })),
        ),
        (
            "12_ReplyStackToPulsarGetTaskRequestDto.bin",
            79,
            Expected::Request(ReplyStackRequest::GetTask),
        ),
        (
            "13_ReplyStackToPulsarReturnResultRequestDto_7.bin",
            121,
            Expected::Request(ReplyStackRequest::ReturnResult {
                consider_me_as_subscriber: 7,
            }),
        ),
        (
            "14_PulsarToReplyStackReplyDto_10.bin",
            237,
            Expected::Reply(PulsarReply::Task {
                subscribers_number: 10,
                dto_to_transfer: BecomeTheSubscriberReply {
                    allow_to_start_subscription: true,
                },
            }),
        ),
        (
            "15_PulsarIterationFinish.bin",
            65,
            Expected::Reply(PulsarReply::IterationFinish),
        ),
    ]
}

fn in_repo_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors"))
}

/// A folder of vectors to compare the in-repo copy with, if `$PULSAR_VECTORS_REFERENCE` names one.
fn reference_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("PULSAR_VECTORS_REFERENCE")?);
    assert!(
        dir.is_dir(),
        "PULSAR_VECTORS_REFERENCE is set but {} is not a directory",
        dir.display()
    );
    Some(dir)
}

fn read(name: &str) -> Vec<u8> {
    let path = in_repo_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

#[test]
fn there_are_fifteen_vectors_in_the_repo() {
    let mut names: Vec<String> = std::fs::read_dir(in_repo_dir())
        .expect("tests/vectors exists")
        .map(|entry| entry.expect("readable dir entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".bin"))
        .collect();
    names.sort();
    let expected: Vec<&str> = vectors().iter().map(|(name, _, _)| *name).collect();
    assert_eq!(names, expected);
}

#[test]
fn in_repo_copy_matches_reference() {
    let Some(shared) = reference_dir() else {
        eprintln!("PULSAR_VECTORS_REFERENCE is not set; only the in-repo copy is tested");
        return;
    };
    let mut shared_names: Vec<String> = std::fs::read_dir(&shared)
        .expect("the reference folder is readable")
        .map(|entry| entry.expect("readable dir entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".bin"))
        .collect();
    shared_names.sort();
    let ours: Vec<&str> = vectors().iter().map(|(name, _, _)| *name).collect();
    assert_eq!(
        shared_names,
        ours,
        "the set of vector files differs from {}",
        shared.display()
    );
    for name in ours {
        let theirs = std::fs::read(shared.join(name)).expect("the reference vector is readable");
        assert_eq!(
            read(name),
            theirs,
            "{name}: tests/vectors copy differs from {}",
            shared.display()
        );
    }
}

#[test]
fn lengths_match_the_manifest() {
    for (name, len, _) in vectors() {
        assert_eq!(read(name).len(), len, "{name}");
    }
}

#[test]
fn parse_then_write_is_byte_exact() {
    for (name, _, _) in vectors() {
        let bytes = read(name);
        let value =
            value::parse(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(value.to_bytes(), bytes, "{name}");
    }
}

#[test]
fn all_protocol_properties_are_protected() {
    for (name, _, _) in vectors() {
        let Ok(Value::Object(object)) = value::parse(&read(name), &Limits::default()) else {
            panic!("{name}: not an object");
        };
        for property in &object.properties {
            let public_in_subclass = name.starts_with("04_") && property.name == b"command";
            let expected = if public_in_subclass {
                Visibility::Public
            } else {
                Visibility::Protected
            };
            assert_eq!(property.visibility, expected, "{name}: {:?}", property.name);
        }
    }
}

#[test]
fn typed_decode_gives_the_expected_values_and_encodes_back() {
    for (name, _, expected) in vectors() {
        let bytes = read(name);
        match expected {
            Expected::Preparing(want) => {
                assert_eq!(PreparingRequest::decode(&bytes), Ok(want.clone()), "{name}");
                assert_eq!(want.encode(), bytes, "{name}");
            }
            Expected::Become(want) => {
                assert_eq!(BecomeTheSubscriberReply::decode(&bytes), Ok(want), "{name}");
                assert_eq!(want.encode(), bytes, "{name}");
            }
            Expected::Pulse(class, allow) => {
                let pulse = Pulse::decode(&bytes, &Limits::default()).expect(name);
                assert_eq!(pulse.bytes, bytes, "{name}");
                assert_eq!(pulse.object.class, class.as_bytes(), "{name}");
                assert_eq!(pulse.allow_action(), allow, "{name}");
                assert_eq!(pulse.object.to_bytes(), bytes, "{name}");
            }
            Expected::Push(want) => {
                assert_eq!(PerformerPush::decode(&bytes), Ok(want.clone()), "{name}");
                assert_eq!(want.encode(), bytes, "{name}");
            }
            Expected::Request(want) => {
                assert_eq!(ReplyStackRequest::decode(&bytes), Ok(want), "{name}");
                assert_eq!(want.encode(), bytes, "{name}");
            }
            Expected::Reply(want) => {
                assert_eq!(PulsarReply::decode(&bytes), Ok(want), "{name}");
                assert_eq!(want.encode(), bytes, "{name}");
            }
        }
    }
}

#[test]
fn default_pulse_is_vector_03() {
    let pulse = Pulse::default_pulse();
    assert_eq!(pulse.bytes, read("03_PublisherToSubscribersDto.bin"));
    assert!(pulse.allow_action());
    assert_eq!(
        Pulse::decode(&pulse.bytes, &Limits::default()),
        Ok(pulse.clone())
    );
}

#[test]
fn vector_04_keeps_the_subclass_properties() {
    let pulse = Pulse::decode(
        &read("04_CustomPublisherToSubscribersDto.bin"),
        &Limits::default(),
    )
    .expect("vector 04 parses");
    assert_eq!(
        pulse.object.get("command"),
        Some(&Value::Str(b"slow-down-please".to_vec()))
    );
    assert_eq!(
        pulse.object.get("secretToken"),
        Some(&Value::Str(b"t0ken".to_vec()))
    );
}

#[test]
fn vector_10_message_is_the_ukrainian_text() {
    let Ok(PerformerPush::ActionResult(result)) =
        PerformerPush::decode(&read("10_ActionResultingPushDto_slowDown_ukrainian.bin"))
    else {
        panic!("vector 10 is an ActionResult");
    };
    let message = result.error_message.clone().expect("has a message");
    assert_eq!(message.len(), 104);
    assert_eq!(std::str::from_utf8(&message), Ok(UKRAINIAN));
    assert!(result.is_error());
}

#[test]
fn vector_11_sleeps_one_hour() {
    let Ok(PerformerPush::ActionResult(result)) = PerformerPush::decode(&read(
        "11_ActionResultingPushDto_sleepForPeriod_3600000000.bin",
    )) else {
        panic!("vector 11 is an ActionResult");
    };
    assert_eq!(result.sleep_for_period, Some(3_600_000_000));
    assert_eq!(result.slow_down, None);
    assert!(result.is_error());
}

#[test]
fn vector_08_is_not_an_error() {
    let Ok(PerformerPush::ActionResult(result)) =
        PerformerPush::decode(&read("08_ActionResultingPushDto_success.bin"))
    else {
        panic!("vector 08 is an ActionResult");
    };
    assert!(!result.is_error());
}

#[test]
fn each_vector_is_refused_by_the_decoders_of_other_messages() {
    fn unexpected<T: std::fmt::Debug>(name: &str, result: Result<T, WireError>) {
        assert!(
            matches!(result, Err(WireError::Unexpected(_))),
            "{name}: {result:?}"
        );
    }
    for (name, _, expected) in vectors() {
        let bytes = read(name);
        if !matches!(expected, Expected::Preparing(_)) {
            unexpected(name, PreparingRequest::decode(&bytes));
        }
        if !matches!(expected, Expected::Become(_)) {
            unexpected(name, BecomeTheSubscriberReply::decode(&bytes));
        }
        if !matches!(expected, Expected::Push(_)) {
            unexpected(name, PerformerPush::decode(&bytes));
        }
        if !matches!(expected, Expected::Request(_)) {
            unexpected(name, ReplyStackRequest::decode(&bytes));
        }
        if !matches!(expected, Expected::Reply(_)) {
            unexpected(name, PulsarReply::decode(&bytes));
        }
    }
}

#[test]
fn inventory_namespace_constant_matches_the_vectors() {
    let bytes = read("01_PreparingRequestDto.bin");
    let Ok(Value::Object(object)) = value::parse(&bytes, &Limits::default()) else {
        panic!("vector 01 is an object");
    };
    assert!(object.class.starts_with(INVENTORY_NS.as_bytes()));
}
