//! Fuzz target: the generic parser and every typed decoder, on any bytes.
//!
//! Beyond "never panics", it checks the codec's round-trip promises on whatever the fuzzer finds valid:
//! the written form of a parsed value parses again to the same bytes, and a decoded message re-encodes to
//! bytes that decode to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pulsar_wire::value::{self, Limits};
use pulsar_wire::{
    BecomeTheSubscriberReply, PerformerPush, PreparingRequest, PulsarReply, Pulse,
    ReplyStackRequest,
};

/// Limits small enough for the fuzzer to hit every limit check quickly.
const TIGHT: Limits = Limits {
    max_input: 512,
    max_depth: 3,
    max_elements: 24,
};

/// If `decode` accepts `data`, re-encoding is a fixed point: encode(decode(encode(x))) == encode(x).
fn typed<T>(
    data: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, pulsar_wire::WireError>,
    encode: impl Fn(&T) -> Vec<u8>,
) {
    if let Ok(message) = decode(data) {
        let bytes = encode(&message);
        let again = decode(&bytes).expect("an encoded message decodes");
        assert_eq!(encode(&again), bytes, "re-encoding is stable");
    }
}

fuzz_target!(|data: &[u8]| {
    for limits in [Limits::default(), TIGHT] {
        if let Ok(parsed) = value::parse(data, &limits) {
            let written = parsed.to_bytes();
            // The written form may be longer than the input (`d:.5;` is written `d:0.5;`), so no size limit.
            let relaxed = Limits {
                max_input: usize::MAX,
                ..limits
            };
            let again = value::parse(&written, &relaxed).expect("the written form parses");
            assert_eq!(
                again.to_bytes(),
                written,
                "write(parse(write(v))) == write(v)"
            );
        }
    }
    typed(data, PreparingRequest::decode, PreparingRequest::encode);
    typed(
        data,
        BecomeTheSubscriberReply::decode,
        BecomeTheSubscriberReply::encode,
    );
    typed(data, PerformerPush::decode, PerformerPush::encode);
    typed(data, ReplyStackRequest::decode, ReplyStackRequest::encode);
    typed(data, PulsarReply::decode, PulsarReply::encode);
    if let Ok(pulse) = Pulse::decode(data, &Limits::default()) {
        assert_eq!(pulse.bytes, data);
        let _ = pulse.allow_action();
    }
});
