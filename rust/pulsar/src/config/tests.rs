//! Unit tests of reading, writing and checking settings.

use super::*;
use pulsar_wire::Limits;

fn setting_of(result: Result<(), PulsarError>) -> String {
    match result {
        Err(PulsarError::InvalidSetting { setting, .. }) => setting,
        other => panic!("expected InvalidSetting, got {other:?}"),
    }
}

fn parse_err_setting(json: &str) -> String {
    match PulsarConfig::from_json_str(json) {
        Err(PulsarError::InvalidSetting { setting, .. }) => setting,
        other => panic!("expected InvalidSetting for {json}, got {other:?}"),
    }
}

fn rejected(edit: impl FnOnce(&mut PulsarConfig)) -> String {
    let mut c = PulsarConfig::default();
    edit(&mut c);
    setting_of(c.validate())
}

#[test]
fn defaults_are_the_originals() {
    let c = PulsarConfig::default();
    assert_eq!(c.subscribers_per_iteration, 10);
    assert_eq!(c.pulsation_iteration_period, 1.0);
    assert_eq!(c.performer_container_action_max_execution_time, 7.0);
    assert_eq!(c.max_wait_reply_stack_result, 5.0);
    assert_eq!(c.max_wait_all_subscribers_ready_before_publish, 7.0);
    assert_eq!(c.timer_iterations_limit, 0);
    assert_eq!(c.module_name, "pulsar");
    assert_eq!(c.max_admission_queue, 65_536);
    assert_eq!(c.publisher_to_subscribers_dto, None);
    let p = &c.pulsar_sockets_params;
    assert_eq!(
        p.reply_to_reply_stack_socket_address,
        "tcp://127.0.0.1:6271"
    );
    assert_eq!(p.push_to_reply_stack_socket_address, "tcp://127.0.0.1:6272");
    assert_eq!(p.publish_socket_address, "tcp://127.0.0.1:6273");
    assert_eq!(p.pull_socket_address, "tcp://127.0.0.1:6274");
    assert_eq!(p.reply_stack_socket_address, "tcp://127.0.0.1:6275");
}

#[test]
fn an_empty_object_gives_the_defaults_and_they_are_valid() {
    let c = PulsarConfig::from_json_str("{}").expect("empty object");
    assert_eq!(c, PulsarConfig::default());
    c.validate().expect("defaults are valid");
}

#[test]
fn the_engine_config_carries_every_setting() {
    let c = PulsarConfig::from_json_str(
        r#"{"subscribersPerIteration": 3, "pulsationIterationPeriod": 0.25,
            "performerContainerActionMaxExecutionTime": 9, "maxWaitReplyStackResult": 0.5,
            "maxWaitAllSubscribersReadyBeforePublish": 2, "timerIterationsLimit": 4,
            "maxAdmissionQueue": 12, "maxActingPerformers": 5, "pulseGuardInterval": 0.002}"#,
    )
    .expect("valid JSON");
    let p = c.to_pulse_config();
    assert_eq!(p.max_acting_performers, 5);
    assert_eq!(p.pulse_guard_interval, Nanos::from_millis(2));
    assert_eq!(p.subscribers_per_iteration, 3);
    assert_eq!(p.pulsation_iteration_period, Nanos::from_millis(250));
    assert_eq!(
        p.performer_container_action_max_execution_time,
        Nanos::from_secs(9)
    );
    assert_eq!(p.max_wait_reply_stack_result, Nanos::from_millis(500));
    assert_eq!(p.max_wait_all_subscribers_ready, Nanos::from_secs(2));
    assert_eq!(p.timer_iterations_limit, 4);
    assert_eq!(p.max_admission_queue, 12);
    assert_eq!(p.slow_down_step, PulseConfig::default().slow_down_step);
}

#[test]
fn every_key_is_read_nested_addresses_and_all() {
    let c = PulsarConfig::from_json_str(
        r#"{"moduleName": "react:pulsar-ga", "replyStackCommandName": "php artisan x",
            "publisherToSubscribersDto": "O:1:\"X\":0:{}",
            "pulsarSocketsParams": {
              "replyToReplyStackSocketAddress": "tcp://127.0.0.1:6261",
              "pushToReplyStackSocketAddress": "tcp://127.0.0.1:6262",
              "publishSocketAddress": "tcp://127.0.0.1:6263",
              "pullSocketAddress": "tcp://127.0.0.1:6264",
              "replyStackSocketAddress": "tcp://127.0.0.1:6265"}}"#,
    )
    .expect("valid JSON");
    assert_eq!(c.module_name, "react:pulsar-ga");
    assert_eq!(c.reply_stack_command_name.as_deref(), Some("php artisan x"));
    assert_eq!(
        c.publisher_to_subscribers_dto.as_deref(),
        Some(&b"O:1:\"X\":0:{}"[..])
    );
    let p = &c.pulsar_sockets_params;
    assert_eq!(
        p.reply_to_reply_stack_socket_address,
        "tcp://127.0.0.1:6261"
    );
    assert_eq!(p.push_to_reply_stack_socket_address, "tcp://127.0.0.1:6262");
    assert_eq!(p.publish_socket_address, "tcp://127.0.0.1:6263");
    assert_eq!(p.pull_socket_address, "tcp://127.0.0.1:6264");
    assert_eq!(p.reply_stack_socket_address, "tcp://127.0.0.1:6265");
}

#[test]
fn flat_address_keys_are_read_and_may_mix_with_nested_ones() {
    let c = PulsarConfig::from_json_str(
        r#"{"publishSocketAddress": "ipc:///tmp/pulse",
            "pulsarSocketsParams": {"pullSocketAddress": "inproc://results"}}"#,
    )
    .expect("valid JSON");
    assert_eq!(
        c.pulsar_sockets_params.publish_socket_address,
        "ipc:///tmp/pulse"
    );
    assert_eq!(
        c.pulsar_sockets_params.pull_socket_address,
        "inproc://results"
    );
    assert_eq!(
        c.pulsar_sockets_params.reply_stack_socket_address,
        DEFAULT_REPLY_STACK_ADDRESS
    );
    // The same value in both places is not a conflict.
    PulsarConfig::from_json_str(
        r#"{"pullSocketAddress": "tcp://127.0.0.1:1",
            "pulsarSocketsParams": {"pullSocketAddress": "tcp://127.0.0.1:1"}}"#,
    )
    .expect("same value twice");
}

#[test]
fn an_address_given_flat_and_nested_with_different_values_is_rejected() {
    let setting = parse_err_setting(
        r#"{"pullSocketAddress": "tcp://127.0.0.1:1",
            "pulsarSocketsParams": {"pullSocketAddress": "tcp://127.0.0.1:2"}}"#,
    );
    assert_eq!(setting, "pullSocketAddress");
}

#[test]
fn null_means_the_default() {
    let c = PulsarConfig::from_json_str(
        r#"{"subscribersPerIteration": null, "publisherToSubscribersDto": null}"#,
    )
    .expect("nulls");
    assert_eq!(c, PulsarConfig::default());
}

#[test]
fn fractional_and_integer_seconds_are_both_accepted() {
    let c = PulsarConfig::from_json_str(r#"{"pulsationIterationPeriod": 2}"#).expect("int");
    assert_eq!(c.pulsation_iteration_period, 2.0);
    let c = PulsarConfig::from_json_str(r#"{"pulsationIterationPeriod": 0.1}"#).expect("f");
    assert_eq!(c.pulsation_iteration_period, 0.1);
    c.validate().expect("fractional period is valid");
}

#[test]
fn unknown_keys_and_malformed_json_are_rejected() {
    assert!(matches!(
        PulsarConfig::from_json_str(r#"{"subscribersPerIteraton": 3}"#),
        Err(PulsarError::ConfigJson(_))
    ));
    assert!(matches!(
        PulsarConfig::from_json_str(r#"{"pulsarSocketsParams": {"publish": "tcp://a:1"}}"#),
        Err(PulsarError::ConfigJson(_))
    ));
    assert!(matches!(
        PulsarConfig::from_json_str("{"),
        Err(PulsarError::ConfigJson(_))
    ));
    assert!(matches!(
        PulsarConfig::from_json_str("[]"),
        Err(PulsarError::ConfigJson(_))
    ));
}

#[test]
fn wrong_types_name_the_setting() {
    assert_eq!(
        parse_err_setting(r#"{"subscribersPerIteration": -1}"#),
        "subscribersPerIteration"
    );
    assert_eq!(
        parse_err_setting(r#"{"subscribersPerIteration": 4294967296}"#),
        "subscribersPerIteration"
    );
    assert_eq!(
        parse_err_setting(r#"{"subscribersPerIteration": 2.5}"#),
        "subscribersPerIteration"
    );
    assert_eq!(
        parse_err_setting(r#"{"pulsationIterationPeriod": "1"}"#),
        "pulsationIterationPeriod"
    );
    assert_eq!(
        parse_err_setting(r#"{"timerIterationsLimit": -3}"#),
        "timerIterationsLimit"
    );
    assert_eq!(parse_err_setting(r#"{"moduleName": 5}"#), "moduleName");
    assert_eq!(
        parse_err_setting(r#"{"pulsarSocketsParams": {"publishSocketAddress": 6273}}"#),
        "pulsarSocketsParams.publishSocketAddress"
    );
    assert_eq!(
        parse_err_setting(r#"{"maxAdmissionQueue": true}"#),
        "maxAdmissionQueue"
    );
}

#[test]
fn from_file_reads_json_and_names_a_missing_file() {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("pulsar-config-test-{}.json", std::process::id()));
    std::fs::write(&path, r#"{"subscribersPerIteration": 4}"#).expect("temp file");
    let c = PulsarConfig::from_file(&path).expect("readable");
    assert_eq!(c.subscribers_per_iteration, 4);
    std::fs::remove_file(&path).expect("cleanup");
    match PulsarConfig::from_file(&path) {
        Err(PulsarError::ConfigFile { path: p, .. }) => {
            assert!(p.contains("pulsar-config-test"))
        }
        other => panic!("expected ConfigFile, got {other:?}"),
    }
}

#[test]
fn zero_subscribers_per_iteration_is_rejected() {
    assert_eq!(
        rejected(|c| c.subscribers_per_iteration = 0),
        "subscribersPerIteration"
    );
}

#[test]
fn bad_periods_are_rejected() {
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-12] {
        assert_eq!(
            rejected(|c| c.pulsation_iteration_period = bad),
            "pulsationIterationPeriod",
            "{bad}"
        );
    }
}

#[test]
fn action_max_execution_time_below_seven_seconds_is_rejected_as_in_the_original() {
    for bad in [6.999, 0.0, -7.0, f64::NAN, f64::INFINITY] {
        assert_eq!(
            rejected(|c| c.performer_container_action_max_execution_time = bad),
            "performerContainerActionMaxExecutionTime",
            "{bad}"
        );
    }
    let c = PulsarConfig {
        performer_container_action_max_execution_time: 7.5,
        ..PulsarConfig::default()
    };
    c.validate().expect("7.5 s is fine");
}

#[test]
fn bad_reply_stack_wait_is_rejected_but_zero_is_allowed() {
    for bad in [-0.5, f64::NAN, f64::NEG_INFINITY, f64::INFINITY] {
        assert_eq!(
            rejected(|c| c.max_wait_reply_stack_result = bad),
            "maxWaitReplyStackResult",
            "{bad}"
        );
    }
    let c = PulsarConfig {
        max_wait_reply_stack_result: 0.0,
        ..PulsarConfig::default()
    };
    c.validate().expect("zero: pulse with whoever is there");
}

#[test]
fn bad_ready_wait_is_rejected() {
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(
            rejected(|c| c.max_wait_all_subscribers_ready_before_publish = bad),
            "maxWaitAllSubscribersReadyBeforePublish",
            "{bad}"
        );
    }
}

#[test]
fn a_guard_that_is_not_a_finite_non_negative_time_is_rejected() {
    for bad in [-0.001, f64::NAN, f64::INFINITY] {
        assert_eq!(
            rejected(|c| c.pulse_guard_interval = bad),
            "pulseGuardInterval"
        );
    }
    assert_eq!(
        parse_err_setting(r#"{"maxActingPerformers": -1}"#),
        "maxActingPerformers"
    );
}

#[test]
fn absurd_times_are_refused_by_name() {
    assert_eq!(
        rejected(|c| c.pulsation_iteration_period = 1e300),
        "pulsationIterationPeriod"
    );
    assert_eq!(
        rejected(|c| c.max_wait_reply_stack_result = 1e300),
        "maxWaitReplyStackResult"
    );
    assert_eq!(
        rejected(|c| c.max_wait_all_subscribers_ready_before_publish = 8.0 * 86_400.0),
        "maxWaitAllSubscribersReadyBeforePublish"
    );
    assert_eq!(
        rejected(|c| c.performer_container_action_max_execution_time = 1e9),
        "performerContainerActionMaxExecutionTime"
    );
    assert_eq!(
        rejected(|c| c.pulse_guard_interval = 2.0),
        "pulseGuardInterval"
    );
    assert_eq!(
        rejected(|c| c.max_pause_for_period = 0.0),
        "maxPauseForPeriod"
    );
    assert_eq!(
        rejected(|c| c.metrics_address = Some("localhost".into())),
        "metricsAddress"
    );
    assert_eq!(
        rejected(|c| c.metrics_address = Some("127.0.0.1:99999".into())),
        "metricsAddress"
    );
    let from_json = PulsarConfig::from_json_str(r#"{"metricsAddress": "127.0.0.1:0"}"#)
        .expect("a metrics address in JSON");
    assert_eq!(from_json.metrics_address.as_deref(), Some("127.0.0.1:0"));
    from_json.validate().expect("an IP and a port");
    let mut fine = PulsarConfig {
        pulsation_iteration_period: DAY_SECS,
        max_pause_for_period: WEEK_SECS,
        ..PulsarConfig::default()
    };
    fine.validate().expect("the bounds themselves are accepted");
    fine.max_pause_for_period = 60.0;
    assert_eq!(
        fine.to_pulse_config().max_pause_for_period,
        Nanos::from_secs(60)
    );
}

#[test]
fn zero_admission_queue_is_rejected() {
    assert_eq!(rejected(|c| c.max_admission_queue = 0), "maxAdmissionQueue");
}

#[test]
fn malformed_addresses_are_rejected_by_name() {
    let bad = [
        "",
        "127.0.0.1:6273",
        "http://127.0.0.1:6273",
        "tcp://127.0.0.1",
        "tcp://:6273",
        "tcp://127.0.0.1:70000",
        "tcp://127.0.0.1:port",
        "tcp://127.0.0.1 :6273",
        "ipc://",
        "inproc://",
    ];
    for address in bad {
        assert_eq!(
            rejected(|c| c.pulsar_sockets_params.publish_socket_address = address.into()),
            "publishSocketAddress",
            "{address:?}"
        );
        assert_eq!(
            rejected(|c| {
                c.pulsar_sockets_params.push_to_reply_stack_socket_address = address.into()
            }),
            "pushToReplyStackSocketAddress",
            "{address:?}"
        );
    }
}

#[test]
fn good_address_forms_are_accepted() {
    let mut c = PulsarConfig::default();
    let p = &mut c.pulsar_sockets_params;
    p.publish_socket_address = "tcp://*:6273".into();
    p.pull_socket_address = "ipc:///tmp/pulsar-pull".into();
    p.reply_stack_socket_address = "inproc://admission".into();
    p.reply_to_reply_stack_socket_address = "tcp://[::1]:6271".into();
    c.validate().expect("all forms libzmq binds");
}

/// The custom subclass of the golden vector 04, as a user would paste it into JSON.
const CUSTOM_DTO: &str = "O:45:\"PulsarHarness\\CustomPublisherToSubscribersDto\":3:{s:14:\"\0*\0allowAction\";b:1;s:7:\"command\";s:16:\"slow-down-please\";s:14:\"\0*\0secretToken\";s:5:\"t0ken\";}";

#[test]
fn the_default_pulse_is_published_when_no_object_is_configured() {
    let c = PulsarConfig::default();
    let pulse = Pulse::decode(&c.pulse_bytes(), &Limits::default()).expect("default pulse");
    assert!(pulse
        .object
        .class_is("React\\PublisherPulsar\\Inventory\\PublisherToSubscribersDto"));
    assert!(pulse.allow_action());
}

#[test]
fn a_configured_subclass_is_published_byte_for_byte() {
    let json = serde_json::json!({ "publisherToSubscribersDto": CUSTOM_DTO }).to_string();
    let c = PulsarConfig::from_json_str(&json).expect("valid JSON");
    c.validate().expect("a well-formed object");
    assert_eq!(c.pulse_bytes(), CUSTOM_DTO.as_bytes());
}

#[test]
fn a_publisher_dto_that_is_not_one_object_is_rejected() {
    for bad in [
        &b""[..],
        b"garbage",
        b"i:1;",
        b"s:3:\"abc\";",
        b"O:1:\"X\":1:{s:1:\"a\";",
        b"O:1:\"X\":0:{}trailing",
    ] {
        assert_eq!(
            rejected(|c| c.publisher_to_subscribers_dto = Some(bad.to_vec())),
            "publisherToSubscribersDto",
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn two_equal_addresses_are_rejected_but_wildcard_ports_may_repeat() {
    assert_eq!(
        rejected(|c| {
            c.pulsar_sockets_params.pull_socket_address = DEFAULT_PUBLISH_ADDRESS.into()
        }),
        "pullSocketAddress"
    );
    let mut c = PulsarConfig::default();
    let p = &mut c.pulsar_sockets_params;
    for a in [
        &mut p.reply_to_reply_stack_socket_address,
        &mut p.push_to_reply_stack_socket_address,
        &mut p.publish_socket_address,
        &mut p.pull_socket_address,
        &mut p.reply_stack_socket_address,
    ] {
        *a = "tcp://127.0.0.1:*".into();
    }
    c.validate().expect("each wildcard gets its own port");
}

/// The table itself: one row per key, flag and variable; every example valid and not the default.
#[test]
fn the_table_names_each_setting_once_and_every_example_is_a_valid_change() {
    let mut seen = std::collections::HashSet::new();
    let mut all = PulsarConfig::default();
    for s in SETTINGS {
        assert!(!s.key.is_empty(), "a row without a key");
        assert!(seen.insert(s.key), "{} twice", s.key);
        for name in [s.flag, s.flag_alias].into_iter().flatten() {
            assert!(seen.insert(name), "flag {name} twice");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{name} is kebab case"
            );
        }
        if let Some(env) = s.env {
            assert!(seen.insert(env), "{env} twice");
            assert!(env.starts_with("PULSARD_"), "{env}");
        }
        assert!(!s.help().is_empty(), "{} has help", s.key);
        assert!(by_key(s.key).is_some());
        let value = s.kind.from_text(s.example).expect("the example reads");
        assert_ne!(
            value,
            s.default_value(),
            "{}'s example is its default",
            s.key
        );
        s.set(&mut all, value.clone())
            .expect("the example fits the field");
        assert_eq!(s.value(&all), value, "{} reads back", s.key);
    }
    all.validate()
        .expect("every example together is a valid configuration");
    assert_eq!(
        PulsarConfig::from_json_value(&all.to_json()).expect("its own JSON"),
        all,
        "to_json and from_json_str round-trip"
    );
}

#[test]
fn the_kinds_the_next_settings_need_are_read_and_written() {
    // Lists of strings (e.g. CIDRs), optional strings (e.g. a key) and bounded integers.
    let list = Kind::TextList
        .from_text("10.0.0.0/8, 127.0.0.1/32")
        .expect("list");
    assert_eq!(
        Vec::<String>::from_value(list.clone()).expect("field"),
        vec!["10.0.0.0/8".to_string(), "127.0.0.1/32".to_string()]
    );
    assert_eq!(
        Kind::TextList
            .from_json(&serde_json::json!(["10.0.0.0/8", "127.0.0.1/32"]))
            .expect("JSON list"),
        list
    );
    assert!(Kind::TextList.from_json(&serde_json::json!([1])).is_err());
    assert_eq!(
        Option::<String>::from_value(Value::Absent).expect("absent"),
        None
    );
    assert_eq!(
        Option::<String>::from_value(Kind::OptionalText.from_text("k3y").expect("text"))
            .expect("some"),
        Some("k3y".to_string())
    );
    let count = Kind::Count { min: 2, max: 9 };
    assert!(count.check(&Value::Count(1)).is_err());
    assert!(count.check(&Value::Count(10)).is_err());
    count.check(&Value::Count(9)).expect("in range");
    assert!(u32::from_value(Value::Count(u64::from(u32::MAX) + 1)).is_err());
}

#[test]
fn markdown_and_json_tables_have_one_row_per_setting() {
    assert_eq!(markdown_table().lines().count(), SETTINGS.len() + 2);
    let json = settings_json();
    assert_eq!(json.as_array().map(Vec::len), Some(SETTINGS.len()));
    assert_eq!(json[0]["key"], "subscribersPerIteration");
    assert_eq!(json[0]["phpSetter"], "setSubscribersPerIteration()");
}

#[test]
fn the_engines_defaults_are_the_tables() {
    // The engine keeps its own defaults (it is a pure crate with no table); they must be the table's.
    assert_eq!(
        PulsarConfig::default().to_pulse_config(),
        PulseConfig::default()
    );
}

#[test]
fn a_huge_time_is_shown_as_written_in_the_refusal() {
    let config = PulsarConfig {
        pulsation_iteration_period: 1e300,
        ..PulsarConfig::default()
    };
    let message = config.validate().expect_err("refused").to_string();
    assert!(message.contains("(got 1e300)"), "{message}");
}
