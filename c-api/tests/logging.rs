//! `pulsar_log_to_stderr` sets the process-wide logger once (the queue is tested in `log_queue.rs`). In its own test binary, since it changes what
//! every other test in the same process would print.

mod support;

use std::ptr;

use pulsar::log::pulsar_log_to_stderr;
use pulsar::PulsarStatus;
use support::{c, expect_status, last_message};

#[test]
fn logging_is_set_up_once_and_a_bad_filter_is_refused() {
    let bad = c("publisher_pulsar=loudest");
    // SAFETY: a valid C string.
    let status = unsafe { pulsar_log_to_stderr(bad.as_ptr()) };
    expect_status(status, PulsarStatus::InvalidArgument);
    assert!(
        last_message().contains("invalid log filter"),
        "{}",
        last_message()
    );

    let warn = c("warn");
    // SAFETY: a valid C string, then NULL (documented: RUST_LOG or info).
    unsafe {
        expect_status(pulsar_log_to_stderr(warn.as_ptr()), PulsarStatus::Ok);
        expect_status(pulsar_log_to_stderr(ptr::null()), PulsarStatus::OutOfOrder);
    }
    assert!(
        last_message().contains("already set up"),
        "{}",
        last_message()
    );
}
