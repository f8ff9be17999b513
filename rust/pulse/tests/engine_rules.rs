//! One deterministic test per rule of the pulse engine, driven by a manual clock: no sleeps, no sockets.

use pulsar_pulse::adapt::{Adaptation, ReportedError};
use pulsar_pulse::{Action, Engine, Event, IterationReport, Nanos, PulseConfig, Ticket};

fn ms(v: u64) -> Nanos {
    Nanos::from_millis(v)
}

/// The engine plus a manual clock and everything it asked for, as a test sees it.
struct Harness {
    engine: Engine,
    now: Nanos,
    admitted: Vec<Ticket>,
    refused: Vec<Ticket>,
    publishes: Vec<(Nanos, u32)>,
    reports: Vec<IterationReport>,
    stopped: bool,
}

impl Harness {
    fn new(config: PulseConfig) -> Self {
        config.validate().expect("test configs are valid");
        Harness {
            engine: Engine::new(config, Nanos::ZERO),
            now: Nanos::ZERO,
            admitted: Vec::new(),
            refused: Vec::new(),
            publishes: Vec::new(),
            reports: Vec::new(),
            stopped: false,
        }
    }

    fn drain(&mut self) {
        while let Some(action) = self.engine.poll_action() {
            match action {
                Action::Admit(t) => self.admitted.push(t),
                Action::Refuse(t) => self.refused.push(t),
                Action::Publish { receivers, .. } => self.publishes.push((self.now, receivers)),
                Action::IterationFinished(r) => self.reports.push(r),
                Action::Stop => self.stopped = true,
            }
        }
    }

    fn event(&mut self, event: Event) {
        self.engine.handle(self.now, event);
        self.drain();
    }

    /// Moves the clock to `t`, waking the engine at each deadline on the way, as a driver would.
    fn advance_to(&mut self, t: Nanos) {
        while let Some(deadline) = self.engine.next_deadline() {
            if deadline > t {
                break;
            }
            assert!(
                deadline > self.now,
                "a deadline in the past would spin the driver"
            );
            self.now = deadline;
            self.engine.handle_timeout(self.now);
            self.drain();
        }
        self.now = t;
        self.engine.handle_timeout(self.now);
        self.drain();
    }

    fn advance(&mut self, d: Nanos) {
        self.advance_to(self.now.saturating_add(d));
    }

    fn request(&mut self, id: u64) {
        self.event(Event::AdmissionRequested(Ticket(id)));
    }

    /// An admitted worker subscribes and reports ready, as the protocol asks.
    fn join(&mut self, count: u32) {
        for _ in 0..count {
            self.event(Event::Subscribed);
            self.event(Event::Ready);
        }
    }

    fn succeed(&mut self, count: u32) {
        for _ in 0..count {
            self.event(Event::Result(None));
        }
    }

    /// Requests `count` workers starting at id `first`, joins the admitted ones, returns how many joined.
    fn gather(&mut self, first: u64, count: u64) -> u32 {
        let before = self.admitted.len();
        for id in first..first + count {
            self.request(id);
        }
        let joined = (self.admitted.len() - before) as u32;
        self.join(joined);
        joined
    }
}

fn config(n: u32, period_ms: u64) -> PulseConfig {
    PulseConfig {
        subscribers_per_iteration: n,
        pulsation_iteration_period: ms(period_ms),
        ..PulseConfig::default()
    }
}

fn slow_down() -> Option<ReportedError> {
    Some(ReportedError {
        slow_down: true,
        message: "User Rate Limit Exceeded".into(),
        reason: "userRateLimitExceeded".into(),
        ..Default::default()
    })
}

fn pause_for(period: Nanos) -> Option<ReportedError> {
    Some(ReportedError {
        sleep_for: Some(period),
        message: "Daily Limit Exceeded".into(),
        reason: "dailyLimitExceeded".into(),
        ..Default::default()
    })
}

#[test]
fn admits_at_most_n_in_arrival_order_and_keeps_the_rest_queued() {
    let mut h = Harness::new(config(3, 1000));
    for id in [7, 3, 9, 1, 5] {
        h.request(id);
    }
    assert_eq!(h.admitted, vec![Ticket(7), Ticket(3), Ticket(9)]);
    assert_eq!(h.engine.stats().queued, 2);
}

#[test]
fn publishes_once_n_are_admitted_ready_and_subscribed() {
    let mut h = Harness::new(config(2, 1000));
    h.request(1);
    h.request(2);
    h.event(Event::Ready);
    h.event(Event::Ready);
    assert!(
        h.publishes.is_empty(),
        "ready messages alone are not subscriptions"
    );
    h.event(Event::Subscribed);
    assert!(h.publishes.is_empty(), "one subscription is still missing");
    h.event(Event::Subscribed);
    assert_eq!(h.publishes, vec![(Nanos::ZERO, 2)]);
}

#[test]
fn a_subscription_without_its_ready_message_does_not_release_the_pulse() {
    let mut h = Harness::new(config(2, 1000));
    h.request(1);
    h.request(2);
    h.event(Event::Subscribed);
    h.event(Event::Subscribed);
    h.event(Event::Ready);
    assert!(h.publishes.is_empty());
    h.event(Event::Ready);
    assert_eq!(h.publishes.len(), 1);
}

#[test]
fn publishes_are_at_least_one_period_apart_even_with_fractional_periods() {
    let mut h = Harness::new(config(2, 250));
    for k in 0..5u64 {
        assert_eq!(h.gather(k * 2, 2), 2);
        while h.publishes.len() as u64 <= k {
            let due = h.engine.next_deadline().expect("the pulse is due");
            h.advance_to(due);
        }
        h.advance(ms(1));
        h.succeed(2);
    }
    let times: Vec<Nanos> = h.publishes.iter().map(|p| p.0).collect();
    assert_eq!(times.len(), 5);
    for pair in times.windows(2) {
        assert!(pair[1].saturating_sub(pair[0]) >= ms(250), "{times:?}");
    }
    // Workers were waiting: each pulse is exactly one period after the previous one.
    assert_eq!(times, vec![ms(0), ms(250), ms(500), ms(750), ms(1000)]);
}

#[test]
fn with_constant_demand_a_pulse_goes_out_every_period_with_n_receivers() {
    let mut h = Harness::new(config(10, 1000));
    for k in 0..4u64 {
        assert_eq!(h.gather(k * 10, 10), 10);
        while h.publishes.len() as u64 <= k {
            let due = h.engine.next_deadline().expect("the pulse is due");
            h.advance_to(due);
        }
        // Results come back 5 ms after the pulse; the next batch asks at once.
        h.advance(ms(5));
        h.succeed(10);
    }
    let expected: Vec<(Nanos, u32)> = (0..4).map(|k| (ms(1000 * k), 10)).collect();
    assert_eq!(h.publishes, expected);
}

#[test]
fn with_fewer_workers_than_n_the_pulse_goes_out_after_the_admission_wait() {
    let mut h = Harness::new(PulseConfig {
        max_wait_reply_stack_result: ms(5000),
        ..config(10, 1000)
    });
    // First iteration: the admission window opened at 0 and nobody came.
    h.advance(ms(100));
    assert_eq!(h.gather(0, 3), 3);
    h.advance(ms(4899));
    assert!(h.publishes.is_empty(), "still inside the admission window");
    h.advance(ms(1));
    assert_eq!(h.publishes, vec![(ms(5000), 3)]);
    let report_expected_imitated = 7;
    h.succeed(3);
    assert_eq!(h.reports[0].imitated, report_expected_imitated);
}

#[test]
fn an_idle_engine_serves_a_late_arrival_at_once() {
    let mut h = Harness::new(config(10, 1000));
    h.advance(ms(60_000));
    assert!(
        h.publishes.is_empty(),
        "no pulse without anybody to receive it"
    );
    assert_eq!(h.gather(0, 1), 1);
    assert_eq!(h.publishes, vec![(ms(60_000), 1)]);
}

#[test]
fn workers_arriving_together_after_idling_share_one_pulse() {
    let mut h = Harness::new(config(10, 1000));
    h.advance(ms(60_000));
    for id in 0..4 {
        h.request(id);
    }
    assert_eq!(h.admitted.len(), 4);
    h.join(4);
    assert_eq!(h.publishes, vec![(ms(60_000), 4)]);
}

#[test]
fn a_worker_that_never_subscribes_delays_the_pulse_by_at_most_the_ready_wait() {
    let mut h = Harness::new(PulseConfig {
        max_wait_all_subscribers_ready: ms(7000),
        ..config(3, 1000)
    });
    h.request(1);
    h.request(2);
    h.request(3);
    h.join(2);
    h.advance(ms(6999));
    assert!(h.publishes.is_empty());
    h.advance(ms(1));
    assert_eq!(h.publishes, vec![(ms(7000), 2)]);
}

#[test]
fn a_late_subscriber_keeps_its_slot_for_the_next_pulse_so_n_is_never_exceeded() {
    let mut h = Harness::new(PulseConfig {
        max_wait_all_subscribers_ready: ms(1000),
        ..config(2, 100)
    });
    h.request(1);
    h.request(2);
    h.join(1);
    h.advance(ms(1000));
    assert_eq!(h.publishes, vec![(ms(1000), 1)]);
    h.succeed(1);
    // Next iteration: one slot stays reserved for the straggler, so only one newcomer is admitted.
    h.request(3);
    h.request(4);
    assert_eq!(h.admitted, vec![Ticket(1), Ticket(2), Ticket(3)]);
    h.join(1); // the newcomer
    h.event(Event::Subscribed); // the straggler's subscription finally arrives
    h.advance(ms(100));
    assert_eq!(h.publishes.last(), Some(&(ms(1100), 2)));
    assert!(h.publishes.iter().all(|p| p.1 <= 2));
}

#[test]
fn a_reserved_slot_lapses_when_its_worker_never_shows_up() {
    let mut h = Harness::new(PulseConfig {
        max_wait_all_subscribers_ready: ms(1000),
        ..config(1, 100)
    });
    h.request(1);
    h.advance(ms(1000));
    assert_eq!(h.publishes, vec![(ms(1000), 0)]);
    h.request(2);
    assert_eq!(h.admitted, vec![Ticket(1)], "slot reserved for worker 1");
    h.advance(ms(1999));
    assert_eq!(
        h.admitted,
        vec![Ticket(1)],
        "reserved for twice the ready wait"
    );
    h.advance(ms(1));
    assert_eq!(h.admitted, vec![Ticket(1), Ticket(2)], "reservation lapsed");
}

#[test]
fn the_iteration_ends_when_every_receiver_reported() {
    let mut h = Harness::new(config(3, 1000));
    h.gather(0, 3);
    h.succeed(2);
    assert!(h.reports.is_empty());
    h.succeed(1);
    assert_eq!(h.reports.len(), 1);
    assert!(!h.reports[0].results_timed_out);
    assert_eq!(h.reports[0].receivers, 3);
}

#[test]
fn a_worker_dying_after_its_grant_delays_the_next_pulse_by_at_most_the_result_wait() {
    let mut h = Harness::new(config(2, 1000));
    h.gather(0, 2);
    h.succeed(1);
    h.request(10);
    h.advance(ms(6999));
    assert!(h.reports.is_empty());
    h.advance(ms(1));
    assert_eq!(h.reports.len(), 1);
    assert!(h.reports[0].results_timed_out);
    assert_eq!(h.admitted.last(), Some(&Ticket(10)));
}

#[test]
fn early_termination_of_an_admitted_worker_releases_the_others_at_once() {
    let mut h = Harness::new(config(3, 1000));
    h.request(1);
    h.request(2);
    h.request(3);
    h.join(2);
    // The third subscribes, then dies while subscribed and says so.
    h.event(Event::Subscribed);
    assert!(h.publishes.is_empty());
    h.event(Event::EarlyTerminated {
        stand_on_subscription: true,
    });
    assert_eq!(h.publishes, vec![(Nanos::ZERO, 2)]);
}

#[test]
fn early_termination_after_the_pulse_shortens_the_result_wait() {
    let mut h = Harness::new(config(2, 1000));
    h.gather(0, 2);
    h.succeed(1);
    h.event(Event::EarlyTerminated {
        stand_on_subscription: true,
    });
    assert_eq!(h.reports.len(), 1);
    assert!(!h.reports[0].results_timed_out);
}

#[test]
fn early_termination_of_a_worker_that_was_not_admitted_changes_nothing() {
    let mut h = Harness::new(config(2, 1000));
    h.request(1);
    h.request(2);
    h.join(1);
    h.event(Event::EarlyTerminated {
        stand_on_subscription: false,
    });
    assert!(h.publishes.is_empty());
}

#[test]
fn a_lost_admission_reply_frees_its_slot_for_the_next_in_line() {
    let mut h = Harness::new(config(2, 1000));
    h.request(1);
    h.request(2);
    h.request(3);
    h.event(Event::AdmissionLost(Ticket(1)));
    assert_eq!(h.admitted, vec![Ticket(1), Ticket(2), Ticket(3)]);
    h.join(2);
    assert_eq!(h.publishes, vec![(Nanos::ZERO, 2)]);
}

#[test]
fn slow_down_narrows_the_pulse_then_grows_a_pause_then_recovers_step_by_step() {
    let mut h = Harness::new(config(3, 100));
    let mut next_id = 0;
    let mut outcomes = vec![slow_down(); 4];
    outcomes.extend(vec![None; 4]);
    for outcome in outcomes {
        let n = h.engine.stats().n;
        let pulses = h.publishes.len();
        assert_eq!(h.gather(next_id, u64::from(n)), n, "exactly N are admitted");
        next_id += u64::from(n);
        while h.publishes.len() == pulses {
            let due = h.engine.next_deadline().unwrap_or_else(|| {
                panic!(
                    "no deadline; stats {:?}; reports {:?}",
                    h.engine.stats(),
                    h.reports.len()
                )
            });
            h.advance_to(due);
        }
        assert_eq!(h.publishes.last().map(|p| p.1), Some(n));
        h.event(Event::Result(outcome));
        h.succeed(n - 1);
    }
    let steps: Vec<(Adaptation, u32, Nanos)> = h
        .reports
        .iter()
        .map(|r| (r.adaptation, r.next_n, r.pause))
        .collect();
    let s = Nanos::from_secs;
    assert_eq!(
        steps,
        vec![
            (Adaptation::Narrowed, 2, s(0)),
            (Adaptation::Narrowed, 1, s(0)),
            (Adaptation::PauseGrown, 1, s(1)),
            (Adaptation::PauseGrown, 1, s(2)),
            (Adaptation::PauseShrunk, 1, s(1)),
            (Adaptation::PauseShrunk, 1, s(0)),
            (Adaptation::Widened, 2, s(0)),
            (Adaptation::Widened, 3, s(0)),
        ]
    );
    // The pauses in force show up as gaps between pulses (period 100 ms; pause counted from iteration start).
    let gaps: Vec<u64> = h
        .publishes
        .windows(2)
        .map(|w| (w[1].0.saturating_sub(w[0].0)).0 / 1_000_000)
        .collect();
    assert_eq!(gaps, vec![100, 100, 1000, 2000, 1000, 100, 100]);
}

#[test]
fn the_slow_down_pause_delays_the_next_publish_and_shrinks_on_success() {
    let mut h = Harness::new(config(1, 100));
    // N is 1 already, so a slow-down grows the pause.
    h.gather(0, 1);
    h.event(Event::Result(slow_down()));
    assert_eq!(h.reports[0].adaptation, Adaptation::PauseGrown);
    assert_eq!(h.engine.stats().pause, Nanos::from_secs(1));
    let iteration_start = h.now;
    h.gather(1, 1);
    assert_eq!(h.publishes.len(), 1, "held by the 1 s pause");
    h.advance(ms(999));
    assert_eq!(h.publishes.len(), 1);
    h.advance(ms(1));
    assert_eq!(
        h.publishes.last(),
        Some(&(iteration_start.saturating_add(ms(1000)), 1))
    );
    h.succeed(1);
    assert_eq!(h.reports[1].adaptation, Adaptation::PauseShrunk);
    assert_eq!(h.engine.stats().pause, Nanos::ZERO);
}

#[test]
fn narrowing_and_recovery_change_how_many_are_admitted() {
    let mut h = Harness::new(config(3, 100));
    h.gather(0, 3);
    h.event(Event::Result(slow_down()));
    h.succeed(2);
    assert_eq!(h.engine.stats().n, 2);
    // Four workers ask; only two are admitted now.
    let admitted_before = h.admitted.len();
    for id in 10..14 {
        h.request(id);
    }
    assert_eq!(h.admitted.len() - admitted_before, 2);
    h.join(2);
    h.advance(ms(100));
    assert_eq!(h.publishes.last().map(|p| p.1), Some(2));
    h.succeed(2);
    assert_eq!(h.reports[1].adaptation, Adaptation::Widened);
    assert_eq!(h.engine.stats().n, 3);
    // The two still queued plus one more make a full pulse of three again.
    assert_eq!(h.admitted.len() - admitted_before, 4);
    h.request(20);
    assert_eq!(h.admitted.len() - admitted_before, 5);
}

#[test]
fn only_the_first_error_of_an_iteration_decides() {
    let mut h = Harness::new(config(3, 100));
    h.gather(0, 3);
    h.event(Event::Result(None));
    h.event(Event::Result(pause_for(Nanos::from_secs(60))));
    h.event(Event::Result(slow_down()));
    let report = &h.reports[0];
    assert_eq!(report.errors, 2);
    assert_eq!(
        report.adaptation,
        Adaptation::PauseForPeriod(Nanos::from_secs(60))
    );
    assert_eq!(h.engine.stats().n, 3, "the later slow-down was not applied");
}

#[test]
fn pause_for_period_closes_admission_until_the_period_is_over() {
    let mut h = Harness::new(config(2, 100));
    h.gather(0, 2);
    h.advance(ms(10));
    h.event(Event::Result(pause_for(Nanos::from_micros(3_600_000_000))));
    h.succeed(1);
    let ended = h.now;
    assert_eq!(
        h.engine.stats().paused_until,
        Some(ended.saturating_add(Nanos::from_secs(3600)))
    );
    h.request(5);
    h.request(6);
    assert_eq!(h.admitted.len(), 2, "nobody is admitted during the pause");
    h.advance(Nanos::from_secs(3600).saturating_sub(ms(1)));
    assert_eq!(h.admitted.len(), 2);
    h.advance(ms(1));
    assert_eq!(&h.admitted[2..], &[Ticket(5), Ticket(6)]);
    h.join(2);
    assert_eq!(
        h.publishes.last(),
        Some(&(ended.saturating_add(Nanos::from_secs(3600)), 2))
    );
}

#[test]
fn an_error_without_instructions_is_logged_and_changes_nothing() {
    let mut h = Harness::new(config(2, 100));
    h.gather(0, 2);
    h.event(Event::Result(Some(ReportedError {
        message: "Backend Error".into(),
        ..Default::default()
    })));
    h.succeed(1);
    assert_eq!(h.reports[0].adaptation, Adaptation::Ignored);
    assert_eq!(
        h.reports[0]
            .first_error
            .as_ref()
            .map(|e| e.message.as_str()),
        Some("Backend Error")
    );
    assert_eq!(h.engine.stats().n, 2);
}

#[test]
fn results_arriving_after_their_iteration_are_dropped() {
    let mut h = Harness::new(config(1, 100));
    h.gather(0, 1);
    h.advance(Nanos::from_secs(7));
    assert!(h.reports[0].results_timed_out);
    h.event(Event::Result(slow_down()));
    assert_eq!(h.engine.stats().late_results, 1);
    assert_eq!(h.engine.stats().n, 1);
    assert_eq!(h.engine.stats().pause, Nanos::ZERO);
}

#[test]
fn a_full_admission_queue_refuses_at_once() {
    let mut h = Harness::new(PulseConfig {
        max_admission_queue: 2,
        ..config(1, 100)
    });
    for id in 0..5 {
        h.request(id);
    }
    assert_eq!(h.admitted, vec![Ticket(0)]);
    assert_eq!(h.refused, vec![Ticket(3), Ticket(4)]);
    assert_eq!(h.engine.stats().refused, 2);
}

#[test]
fn timer_iterations_limit_stops_the_engine_and_refuses_the_waiting() {
    let mut h = Harness::new(PulseConfig {
        timer_iterations_limit: 2,
        ..config(1, 100)
    });
    h.gather(0, 1);
    h.succeed(1);
    assert!(!h.stopped);
    h.request(1);
    h.request(2);
    h.join(1);
    h.advance(ms(100));
    h.succeed(1);
    assert!(h.stopped);
    assert!(h.engine.is_stopped());
    assert_eq!(h.refused, vec![Ticket(2)]);
    assert_eq!(h.engine.next_deadline(), None);
    h.request(3);
    assert_eq!(h.refused, vec![Ticket(2), Ticket(3)]);
}

#[test]
fn more_subscriptions_than_n_hold_the_pulse_for_at_most_the_ready_wait() {
    let mut h = Harness::new(PulseConfig {
        max_wait_all_subscribers_ready: ms(500),
        ..config(1, 100)
    });
    // A subscriber that was never admitted appears beside the admitted worker.
    h.event(Event::Subscribed);
    h.request(1);
    h.join(1);
    assert!(h.publishes.is_empty(), "two subscriptions for one slot");
    h.advance(ms(500));
    assert_eq!(h.publishes, vec![(ms(500), 2)]);
    h.succeed(1);
    assert_eq!(h.reports[0].excess, 1);
}

#[test]
fn a_clock_going_backwards_does_not_release_a_pulse_early() {
    let mut h = Harness::new(config(1, 1000));
    h.gather(0, 1);
    h.succeed(1);
    h.request(1);
    h.join(1);
    h.now = ms(500);
    h.engine.handle_timeout(Nanos::ZERO);
    h.drain();
    assert_eq!(h.publishes.len(), 1);
    h.advance_to(ms(1000));
    assert_eq!(h.publishes.len(), 2);
}

#[test]
fn next_deadline_is_none_only_when_just_an_event_can_help() {
    let mut h = Harness::new(config(2, 100));
    // Admission window still open, nobody there: the window's end is a deadline.
    assert_eq!(h.engine.next_deadline(), Some(Nanos::from_secs(5)));
    h.advance(Nanos::from_secs(6));
    assert_eq!(h.engine.next_deadline(), None);
}

#[test]
fn the_next_pulse_is_spaced_from_when_the_previous_one_finished_sending() {
    let mut h = Harness::new(config(1, 1000));
    h.gather(0, 1);
    assert_eq!(h.publishes, vec![(Nanos::ZERO, 1)]);
    // Sending took 3 ms.
    h.advance(ms(3));
    h.event(Event::PulseSent);
    h.succeed(1);
    h.gather(1, 1);
    h.advance_to(ms(1002));
    assert_eq!(h.publishes.len(), 1);
    h.advance_to(ms(1003));
    assert_eq!(h.publishes.last(), Some(&(ms(1003), 1)));
}
