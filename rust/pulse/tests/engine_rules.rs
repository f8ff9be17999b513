//! One deterministic test per rule of the slot engine (see the rules in `engine`'s module docs), driven by a
//! manual clock: no sleeps, no sockets.

use pulsar_pulse::adapt::{Adaptation, ReportedError};
use pulsar_pulse::{
    Action, Engine, Event, IterationReport, Nanos, PauseCause, Predecessor, PulseConfig, Ticket,
};

fn ms(v: u64) -> Nanos {
    Nanos::from_millis(v)
}

/// The engine plus a manual clock and everything it asked for, as a test sees it.
struct Harness {
    engine: Engine,
    now: Nanos,
    admitted: Vec<Ticket>,
    refused: Vec<Ticket>,
    forgotten: Vec<Ticket>,
    publishes: Vec<(Nanos, u32)>,
    held: u32,
    reports: Vec<IterationReport>,
    pauses: Vec<(PauseCause, Nanos, Nanos)>,
    stopped: bool,
}

impl Harness {
    fn new(config: PulseConfig) -> Self {
        config.validate().expect("test configs are valid");
        Harness {
            // Each rule on its own: the restart rules have their tests below.
            engine: Engine::without_predecessor(config, Nanos::ZERO),
            now: Nanos::ZERO,
            admitted: Vec::new(),
            refused: Vec::new(),
            forgotten: Vec::new(),
            publishes: Vec::new(),
            held: 0,
            reports: Vec::new(),
            pauses: Vec::new(),
            stopped: false,
        }
    }

    /// The engine as the daemon starts it: as after a restart (see `engine::restart`).
    fn restarted(config: PulseConfig) -> Self {
        let mut h = Harness::new(config.clone());
        h.engine = Engine::new(config, Nanos::ZERO);
        h
    }

    fn drain(&mut self) {
        while let Some(action) = self.engine.poll_action() {
            match action {
                Action::Admit(t) => self.admitted.push(t),
                Action::Refuse(t) => self.refused.push(t),
                Action::Forget(t) => self.forgotten.push(t),
                Action::Publish { receivers, .. } => self.publishes.push((self.now, receivers)),
                Action::PulseHeld { .. } => self.held += 1,
                Action::Paused {
                    cause,
                    requested,
                    applied,
                } => self.pauses.push((cause, requested, applied)),
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
        self.advance_to(self.now + d);
    }

    fn request(&mut self, id: u64) {
        self.event(Event::AdmissionRequested(Ticket(id)));
    }

    /// Admitted workers subscribe and report ready, as the protocol asks.
    fn join(&mut self, count: u32) {
        for _ in 0..count {
            self.event(Event::Subscribed);
            self.event(Event::Ready);
        }
    }

    /// Receivers of a pulse unsubscribe (they do so right after it) and report success.
    fn leave_and_succeed(&mut self, count: u32) {
        for _ in 0..count {
            self.event(Event::Unsubscribed);
            self.event(Event::Result(None));
        }
    }

    fn grants(&self) -> u32 {
        self.publishes.iter().map(|p| p.1).sum()
    }

    /// N=2, period 1 s: worker 2 subscribes first while worker 1 is still on its way; the company wait runs out
    /// (100 ms) and the pulse goes to one, for which the engine takes the oldest, ticket 1. Worker 2 (really
    /// released) reports and asks again while its ticket is still tracked: its place stays, anonymous, for
    /// worker 1's subscription.
    fn wrong_guess() -> Self {
        let mut h = Harness::new(config(2, 1000));
        h.request(1);
        h.request(2);
        h.join(1);
        h.advance(ms(100));
        assert_eq!(h.publishes, vec![(ms(100), 1)]);
        assert_eq!(h.forgotten, vec![Ticket(1)]);
        h.leave_and_succeed(1);
        h.event(Event::AskedAgain(Ticket(2)));
        assert_eq!(h.engine.stats().anonymized, 1);
        h
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
    for id in 1..=5 {
        h.request(id);
    }
    assert_eq!(h.admitted, vec![Ticket(1), Ticket(2), Ticket(3)]);
    assert_eq!(h.engine.stats().queued, 2);
}

#[test]
fn a_lone_worker_at_an_idle_daemon_is_released_as_soon_as_it_subscribes() {
    let mut h = Harness::new(config(10, 1000));
    h.advance(ms(5000));
    h.request(1);
    h.join(1);
    assert_eq!(
        h.publishes,
        vec![(ms(5000), 1)],
        "no wait for company that is not coming"
    );
}

#[test]
fn a_small_fleet_gets_a_pulse_every_period() {
    let mut h = Harness::new(config(10, 1000));
    for round in 0..5u64 {
        for id in 0..5 {
            h.request(round * 10 + id);
        }
        h.join(5);
        h.advance(ms(100));
        h.leave_and_succeed(5);
        h.advance_to(ms((round + 1) * 1000 + 50));
    }
    assert_eq!(h.publishes.len(), 5, "{:?}", h.publishes);
    assert!(h.publishes.iter().all(|p| p.1 == 5));
}

#[test]
fn pulses_are_a_period_and_the_guard_apart() {
    let mut h = Harness::new(config(2, 250));
    for round in 0..4u64 {
        // The next two are ready well before the period allows their pulse.
        let before = h.publishes.len();
        h.request(round * 2);
        h.request(round * 2 + 1);
        h.join(2);
        while h.publishes.len() == before && h.now < ms(5000) {
            h.advance(ms(1));
        }
        h.advance(ms(10));
        h.leave_and_succeed(2);
    }
    let at: Vec<Nanos> = h.publishes.iter().map(|p| p.0).collect();
    // The guard is min(5 ms, 2 % of 250 ms) = 5 ms.
    assert_eq!(at, vec![ms(0), ms(255), ms(510), ms(765)]);
}

#[test]
fn the_guard_never_takes_more_than_two_percent_of_the_period() {
    let mut cfg = config(1, 10);
    cfg.pulse_guard_interval = ms(50);
    let mut h = Harness::new(cfg);
    for id in 0..3 {
        h.request(id);
        h.join(1);
        h.advance(ms(1));
        h.leave_and_succeed(1);
        h.advance(ms(20));
    }
    let gaps: Vec<Nanos> = h
        .publishes
        .windows(2)
        .map(|w| w[1].0.saturating_sub(w[0].0))
        .collect();
    assert!(
        gaps.iter().all(|g| *g >= Nanos::from_nanos(10_200_000)),
        "{gaps:?}"
    );
}

#[test]
fn admission_for_the_next_pulse_overlaps_the_current_pulses_acting() {
    let mut h = Harness::new(config(2, 1000));
    h.request(1);
    h.request(2);
    h.join(2);
    assert_eq!(h.publishes.len(), 1);
    h.request(3);
    h.request(4);
    assert_eq!(h.admitted.len(), 2, "slots are held by acting workers");
    h.event(Event::Unsubscribed);
    h.event(Event::Result(None));
    assert_eq!(h.admitted.len(), 3, "one result frees one slot at once");
    h.event(Event::Unsubscribed);
    h.event(Event::Result(None));
    h.join(2);
    h.advance(ms(1010));
    assert_eq!(h.publishes.len(), 2);
    assert_eq!(h.publishes[1].1, 2);
}

#[test]
fn a_missing_result_holds_one_slot_until_the_result_timeout() {
    let mut h = Harness::new(config(2, 1000));
    h.request(1);
    h.request(2);
    h.join(2);
    h.event(Event::Unsubscribed);
    h.event(Event::Unsubscribed);
    h.event(Event::Result(None)); // the other never reports
    h.request(3);
    h.request(4);
    assert_eq!(h.admitted.len(), 3, "the silent worker holds one slot");
    h.join(1);
    h.advance(ms(1010));
    assert_eq!(h.publishes[1].1, 1, "the pulse goes on with the others");
    h.event(Event::Unsubscribed);
    h.event(Event::Result(None));
    assert_eq!(
        h.admitted.len(),
        4,
        "the silent worker still holds exactly one slot"
    );
    h.request(5);
    assert_eq!(h.admitted.len(), 4);
    // Results carry no identity: the second pulse's result was credited to the first, so the slot that lapses
    // is the second pulse's (sent at 1005 ms: one period and the 5 ms guard), at its result timeout.
    h.advance_to(ms(8004));
    assert_eq!(h.engine.stats().lapsed_results, 0);
    h.advance_to(ms(8006));
    assert_eq!(h.admitted.len(), 5, "the lapsed slot is free again");
    assert_eq!(h.engine.stats().lapsed_results, 1);
}

#[test]
fn a_lost_receiver_is_named_by_the_pulses_around_its_ready_and_counted_once() {
    let mut h = Harness::new(config(2, 1000));
    h.request(1);
    // A lone worker is released as soon as it subscribes: its Ready is read just after its pulse.
    h.join(1);
    assert_eq!(h.publishes.len(), 1);
    h.event(Event::Unsubscribed);
    // It dies: its Ready came 0 ms after pulse 1, which reached it.
    h.event(Event::ReceiverLost {
        pulses_at_ready: 1,
        ready_lag: Some(ms(0)),
    });
    // A worker whose Ready came 300 ms after pulse 1 was waiting for pulse 2, which has not gone out: nothing
    // is owed for it.
    h.event(Event::ReceiverLost {
        pulses_at_ready: 1,
        ready_lag: Some(ms(300)),
    });
    // Pulse 1 had one new receiver, already reported lost.
    h.event(Event::ReceiverLost {
        pulses_at_ready: 0,
        ready_lag: None,
    });
    let s = h.engine.stats();
    assert_eq!((s.lost_receivers, s.ignored_losses, s.acting), (1, 2, 1));
    // Its debt stayed in its own pulse: it lapses there at the result timeout, once.
    h.advance_to(ms(7001));
    let s = h.engine.stats();
    assert_eq!((s.lapsed_results, s.acting), (1, 0));
    assert_eq!(h.reports.last().map(|r| r.unreported), Some(1));
}

#[test]
fn a_worker_whose_connection_closed_after_admission_frees_its_slot_at_once() {
    let mut h = Harness::new(config(2, 1000));
    h.request(1);
    h.request(2);
    h.join(1);
    assert!(h.publishes.is_empty(), "company is on its way");
    // Worker 1 exits right after its admission, never subscribing; the driver sees its connection close.
    h.event(Event::AdmissionLost(Ticket(1)));
    assert_eq!(
        h.publishes,
        vec![(ms(0), 1)],
        "nobody else is on the way: no wait"
    );
    assert_eq!(h.engine.stats().departed, 1);
    h.request(3);
    assert_eq!(
        h.admitted.last(),
        Some(&Ticket(3)),
        "its slot went to the next in line"
    );
}

#[test]
fn a_silent_admitted_worker_is_dropped_after_the_ready_wait() {
    let mut h = Harness::new(config(1, 1000));
    h.request(1);
    h.request(2);
    h.advance(ms(6999));
    assert_eq!(h.admitted, vec![Ticket(1)]);
    h.advance(ms(2));
    assert_eq!(h.admitted, vec![Ticket(1), Ticket(2)]);
    assert!(h.forgotten.contains(&Ticket(1)));
    assert_eq!(h.engine.stats().subscription_timeouts, 1);
}

#[test]
fn a_subscribed_worker_whose_ready_wait_runs_out_before_its_pulse_keeps_its_place() {
    // A period longer than the ready wait (7 s): worker 3 subscribes at once, and its wait runs out before the
    // pulse may go. Its ticket is forgotten, but its subscription is still there and the pulse will reach it:
    // it keeps its place, so that only one more is admitted and the pulse goes to N instead of being held.
    let mut h = Harness::new(config(2, 10_000));
    h.request(1);
    h.request(2);
    h.join(2);
    assert_eq!(h.publishes, vec![(ms(0), 2)]);
    h.leave_and_succeed(2);
    h.request(3);
    h.join(1);
    h.advance_to(ms(7001));
    assert!(h.forgotten.contains(&Ticket(3)));
    h.request(4);
    h.request(5);
    assert_eq!(
        h.admitted,
        vec![Ticket(1), Ticket(2), Ticket(3), Ticket(4)],
        "worker 3's subscription still takes a place"
    );
    h.join(1);
    h.advance_to(ms(10_005));
    assert_eq!(h.held, 0, "no pulse held");
    assert_eq!(h.publishes, vec![(ms(0), 2), (ms(10_005), 2)]);
    h.leave_and_succeed(2);
    assert_eq!(h.admitted.last(), Some(&Ticket(5)));
}

#[test]
fn a_ready_worker_waits_for_admitted_company_at_most_a_tenth_of_the_period() {
    let mut h = Harness::new(config(3, 1000));
    h.request(1);
    h.request(2);
    h.request(3);
    h.join(1);
    assert!(h.publishes.is_empty(), "two more are on their way");
    h.advance(ms(99));
    assert!(h.publishes.is_empty());
    h.advance(ms(1));
    assert_eq!(h.publishes, vec![(ms(100), 1)]);
}

#[test]
fn an_anonymous_place_is_no_company_to_wait_for() {
    let mut h = Harness::wrong_guess();
    h.request(3);
    assert_eq!(h.admitted, vec![Ticket(1), Ticket(2), Ticket(3)]);
    // One subscription arrives. Whether it is worker 3 or worker 1 nobody can tell, and the other place is
    // either the anonymous one or worker 3 on its way; the pulse does not wait for an anonymous place.
    h.join(1);
    h.advance_to(ms(1105));
    assert_eq!(
        h.publishes.last(),
        Some(&(ms(1105), 1)),
        "the pulse leaves when due, not a company wait later"
    );
}

#[test]
fn company_that_arrives_in_time_shares_the_pulse() {
    let mut h = Harness::new(config(3, 1000));
    h.request(1);
    h.request(2);
    h.join(1);
    h.advance(ms(3));
    h.join(1);
    assert_eq!(h.publishes, vec![(ms(3), 2)]);
}

#[test]
fn more_subscriptions_than_n_hold_the_pulse_until_some_leave() {
    let mut h = Harness::new(config(2, 1000));
    h.request(1);
    h.request(2);
    h.event(Event::Subscribed); // a stranger subscribes without admission
    h.join(2);
    assert!(h.publishes.iter().all(|p| p.1 <= 2), "{:?}", h.publishes);
    if h.publishes.is_empty() {
        assert_eq!(h.held, 1);
        h.event(Event::Unsubscribed);
        assert_eq!(h.publishes.len(), 1);
    }
}

#[test]
fn a_pulse_that_reaches_only_a_stray_releases_no_admitted_worker() {
    // A subscription nobody was admitted for (a stray: left behind, or a stranger) gets the next pulse. The
    // admitted workers still on their way keep their places: none of them is taken for the stray's receiver,
    // or admission would give that place a second time and the following pulse would be held.
    let mut h = Harness::new(config(3, 1000));
    h.request(1);
    h.join(1);
    assert_eq!(h.publishes, vec![(ms(0), 1)]);
    h.leave_and_succeed(1);
    h.advance_to(ms(100));
    h.event(Event::Subscribed); // the stray
    for id in 2..=5 {
        h.request(id);
    }
    assert_eq!(h.admitted, vec![Ticket(1), Ticket(2), Ticket(3)]);
    // Workers 2 and 3 are slow to subscribe: after the company wait the pulse goes to the stray alone.
    h.advance_to(ms(1105));
    assert_eq!(h.publishes, vec![(ms(0), 1), (ms(1105), 1)]);
    assert!(
        !h.forgotten.contains(&Ticket(2)) && !h.forgotten.contains(&Ticket(3)),
        "{:?}",
        h.forgotten
    );
    h.leave_and_succeed(1);
    assert_eq!(
        h.admitted,
        vec![Ticket(1), Ticket(2), Ticket(3), Ticket(4)],
        "one place was free, not two"
    );
    h.join(3);
    h.advance_to(ms(2110));
    assert_eq!(h.held, 0, "no pulse held");
    assert_eq!(h.publishes.last(), Some(&(ms(2110), 3)));
}

#[test]
fn anonymous_messages_beyond_what_is_outstanding_free_nothing() {
    let mut h = Harness::new(config(1, 1000));
    for _ in 0..5 {
        h.event(Event::Result(None));
        h.event(Event::EarlyTerminated {
            stand_on_subscription: true,
        });
        h.event(Event::Ready);
        h.event(Event::Unsubscribed);
    }
    let s = h.engine.stats();
    assert_eq!(
        (
            s.late_results,
            s.ignored_early_terminations,
            s.ignored_readies,
            s.ignored_unsubscriptions
        ),
        (5, 5, 5, 5)
    );
    h.request(1);
    h.join(1);
    h.request(2);
    // A forged result cannot make room while the released worker still acts... beyond its one slot.
    h.event(Event::Result(None));
    h.event(Event::Result(None));
    assert_eq!(h.engine.stats().late_results, 6);
    assert!(h.publishes.len() == 1 && h.grants() == 1);
}

#[test]
fn early_termination_of_a_released_worker_gives_its_slot_back() {
    let mut h = Harness::new(config(1, 1000));
    h.request(1);
    h.join(1);
    h.request(2);
    assert_eq!(h.admitted.len(), 1);
    h.event(Event::Unsubscribed);
    h.event(Event::EarlyTerminated {
        stand_on_subscription: true,
    });
    assert_eq!(h.admitted.len(), 2);
}

#[test]
fn a_slow_down_narrows_n_at_once_and_clean_pulses_recover_it() {
    let mut h = Harness::new(config(3, 100));
    h.request(1);
    h.request(2);
    h.request(3);
    h.join(3);
    h.event(Event::Unsubscribed);
    h.event(Event::Result(slow_down()));
    assert_eq!(
        h.engine.stats().n,
        2,
        "the first error decides as it arrives"
    );
    h.event(Event::Unsubscribed);
    h.event(Event::Result(slow_down()));
    assert_eq!(
        h.engine.stats().n,
        2,
        "later errors of the same pulse do not decide again"
    );
    h.event(Event::Unsubscribed);
    h.event(Event::Result(None));
    assert_eq!(h.reports[0].adaptation, Adaptation::Narrowed);
    for id in 4..=5 {
        h.request(id);
    }
    h.request(6);
    assert_eq!(h.admitted.len(), 5, "two per pulse now");
    h.join(2);
    h.advance(ms(200));
    h.leave_and_succeed(2);
    assert_eq!(h.reports[1].adaptation, Adaptation::Widened);
    assert_eq!(h.engine.stats().n, 3);
}

#[test]
fn at_one_worker_a_slow_down_grows_a_pause_before_each_pulse() {
    let mut h = Harness::new(config(1, 100));
    h.request(1);
    h.join(1);
    h.event(Event::Unsubscribed);
    h.event(Event::Result(slow_down()));
    assert_eq!(h.engine.stats().pause, Nanos::from_secs(1));
    h.request(2);
    h.join(1);
    h.advance(ms(1000));
    assert_eq!(h.publishes.len(), 1);
    h.advance(ms(200));
    assert_eq!(h.publishes.len(), 2);
    assert!(h.publishes[1].0 >= ms(1100), "{:?}", h.publishes);
}

#[test]
fn a_pause_for_period_stops_admission_and_pulses_until_it_ends() {
    let mut h = Harness::new(config(2, 100));
    h.request(1);
    h.join(1);
    h.event(Event::Unsubscribed);
    h.event(Event::Result(pause_for(ms(5000))));
    assert_eq!(h.engine.stats().paused_until, Some(ms(5000)));
    h.request(2);
    h.advance(ms(4990));
    assert_eq!(h.admitted.len(), 1, "admission is closed");
    h.advance(ms(20));
    assert_eq!(h.admitted.len(), 2);
    h.join(1);
    assert_eq!(h.publishes.len(), 2);
    assert_eq!(
        h.pauses,
        vec![(PauseCause::ForPeriod, ms(5000), ms(5000))],
        "the pause is announced with what was asked and what was applied"
    );
}

#[test]
fn a_pause_for_period_never_lasts_longer_than_the_cap() {
    let mut cfg = config(2, 100);
    cfg.max_pause_for_period = Nanos::from_secs(3600);
    let mut h = Harness::new(cfg);
    h.request(1);
    h.join(1);
    h.event(Event::Unsubscribed);
    // 2^63 - 1 microseconds on the wire: 292 000 years.
    let asked = Nanos::from_micros(i64::MAX as u64);
    h.event(Event::Result(pause_for(asked)));
    assert_eq!(h.engine.stats().paused_until, Some(Nanos::from_secs(3600)));
    assert_eq!(
        h.pauses,
        vec![(PauseCause::ForPeriod, asked, Nanos::from_secs(3600))]
    );
    h.request(2);
    h.advance_to(Nanos::from_secs(3600) + ms(1));
    assert_eq!(h.admitted.len(), 2, "admission opens again at the cap");
}

#[test]
fn an_error_without_instructions_decides_nothing_and_does_not_recover() {
    let mut h = Harness::new(config(2, 100));
    h.request(1);
    h.join(1);
    h.event(Event::Unsubscribed);
    h.event(Event::Result(Some(ReportedError {
        message: "boom".into(),
        ..Default::default()
    })));
    assert_eq!(h.reports[0].adaptation, Adaptation::Ignored);
    assert_eq!(h.engine.stats().n, 2);
}

#[test]
fn a_full_admission_queue_refuses_at_once() {
    let mut cfg = config(1, 1000);
    cfg.max_admission_queue = 2;
    let mut h = Harness::new(cfg);
    for id in 1..=4 {
        h.request(id);
    }
    assert_eq!(h.refused, vec![Ticket(4)]);
}

#[test]
fn timer_iterations_limit_stops_after_that_many_pulses_and_refuses_the_waiting() {
    let mut cfg = config(1, 100);
    cfg.timer_iterations_limit = 2;
    let mut h = Harness::new(cfg);
    for round in 0..2u64 {
        h.request(round * 10);
        h.join(1);
        h.advance(ms(1));
        h.request(round * 10 + 1);
        h.leave_and_succeed(1);
        h.advance(ms(110));
    }
    assert!(h.stopped);
    assert_eq!(h.publishes.len(), 2);
    assert!(!h.refused.is_empty());
    assert_eq!(h.engine.next_deadline(), None);
}

#[test]
fn a_clock_going_backwards_does_not_release_a_pulse_early() {
    let mut h = Harness::new(config(1, 1000));
    h.request(1);
    h.join(1);
    h.advance(ms(500));
    h.leave_and_succeed(1);
    h.request(2);
    h.engine.handle(ms(10), Event::Subscribed);
    h.drain();
    assert_eq!(h.publishes.len(), 1);
    h.advance_to(ms(1010));
    assert_eq!(h.publishes.len(), 2);
}

#[test]
fn the_next_pulse_is_spaced_from_when_the_previous_one_finished_sending() {
    let mut h = Harness::new(config(1, 100));
    h.request(1);
    h.join(1);
    h.advance(ms(30));
    h.event(Event::PulseSent); // a slow send
    h.leave_and_succeed(1);
    h.request(2);
    h.join(1);
    h.advance_to(ms(129));
    assert_eq!(h.publishes.len(), 1);
    h.advance_to(ms(133));
    assert_eq!(h.publishes.len(), 2);
}

#[test]
fn a_worker_that_asks_again_is_no_longer_tracked_under_its_old_ticket() {
    let mut h = Harness::new(config(2, 1000));
    h.request(1);
    h.request(2);
    h.event(Event::AdmissionLost(Ticket(1)));
    assert_eq!(h.engine.stats().admitted_waiting, 1);
    assert_eq!(h.engine.stats().departed, 1);
}

#[test]
fn a_worker_kept_by_a_wrong_guess_leaves_a_place_for_the_one_released_in_its_stead() {
    // Worker 2's place stays for worker 1's subscription, so only one new worker is admitted, not two.
    let mut h = Harness::wrong_guess();
    h.request(3);
    h.request(4);
    assert_eq!(h.engine.stats().anonymized, 1);
    assert_eq!(h.admitted, vec![Ticket(1), Ticket(2), Ticket(3)]);
    // Worker 1 subscribes at last; with worker 3 the next pulse reaches two, never more.
    h.join(2);
    h.advance_to(ms(1200));
    assert_eq!(h.publishes.last(), Some(&(ms(1105), 2)));
}

#[test]
fn an_uncounted_receiver_that_asks_again_leaves_no_place_behind() {
    let mut h = Harness::new(config(2, 1000));
    h.request(1);
    h.request(2);
    h.join(1);
    h.advance(ms(100));
    assert_eq!(h.publishes, vec![(ms(100), 1)]);
    // Worker 2's subscription had reached the publisher's list unread: it got the pulse uncounted. Both report;
    // one result is owed, the other is unowed.
    h.leave_and_succeed(1);
    h.event(Event::Result(None));
    assert_eq!(h.engine.stats().late_results, 1);
    // Its subscription and unsubscription are read late; then it asks again, still tracked.
    h.event(Event::Subscribed);
    h.event(Event::Unsubscribed);
    h.event(Event::AskedAgain(Ticket(2)));
    assert_eq!(h.engine.stats().anonymized, 0, "nobody owes a subscription");
    assert_eq!(h.engine.stats().admitted_waiting, 0);
    h.request(3);
    h.request(4);
    assert_eq!(h.admitted, vec![Ticket(1), Ticket(2), Ticket(3), Ticket(4)]);
}

#[test]
fn credited_results_are_split_by_outcome_exactly() {
    let error = |slow_down: bool, sleep_for: Option<Nanos>| {
        Event::Result(Some(ReportedError {
            slow_down,
            sleep_for,
            message: String::new(),
            reason: String::new(),
        }))
    };
    let mut h = Harness::new(config(5, 1000));
    for id in 1..=5 {
        h.request(id);
    }
    h.join(5);
    assert_eq!(h.grants(), 5);
    for _ in 0..5 {
        h.event(Event::Unsubscribed);
    }
    h.event(Event::Result(None));
    h.event(error(true, None));
    h.event(error(true, Some(ms(10)))); // slow-down wins, as in the adaptation rule
    h.event(error(false, Some(ms(10))));
    h.event(error(false, None));
    h.event(Event::Result(None)); // nobody owes it: late
    let s = h.engine.stats();
    assert_eq!(
        (
            s.successes,
            s.slow_down_results,
            s.sleep_for_period_results,
            s.ignored_errors,
            s.late_results
        ),
        (1, 2, 1, 1, 1)
    );
    assert_eq!(s.results, 5);
    assert_eq!(s.errors, 4);
}

#[test]
fn after_a_restart_the_first_pulse_waits_a_period_and_admission_waits_the_settle() {
    let mut h = Harness::restarted(config(10, 1000));
    for id in 0..10 {
        h.request(id);
    }
    h.advance_to(ms(499));
    assert!(
        h.admitted.is_empty(),
        "admitted during the settle: {:?}",
        h.admitted
    );
    h.advance_to(ms(500));
    assert_eq!(h.admitted.len(), 10);
    h.join(10);
    h.advance_to(ms(999));
    assert!(
        h.publishes.is_empty(),
        "a pulse within a period of the start: {:?}",
        h.publishes
    );
    h.advance_to(ms(1010));
    // A period and the guard (5 ms) after the start, as if the predecessor had just published.
    assert_eq!(h.publishes, vec![(ms(1005), 10)]);
}

/// A first daemon with a fleet starting with it: the first pulse waits for the admitted workers still setting up
/// (up to a period, not a tenth), so a burst is served in full pulses; once they are in, it goes at once.
#[test]
fn without_a_predecessor_the_first_pulse_gathers_the_admitted_on_their_way() {
    let mut h = Harness::new(config(10, 1000));
    h.engine = Engine::after(config(10, 1000), Nanos::ZERO, Predecessor::None);
    for id in 0..10 {
        h.request(id);
    }
    assert_eq!(h.admitted.len(), 10);
    h.advance_to(ms(5));
    h.join(4);
    // Well past a tenth of the period (100 ms): still waiting for the six on their way.
    h.advance_to(ms(300));
    assert!(h.publishes.is_empty(), "{:?}", h.publishes);
    h.join(6);
    assert_eq!(h.publishes, vec![(ms(300), 10)]);
    // Later pulses wait a tenth of the period for company, as always.
    h.leave_and_succeed(10);
    for id in 10..20 {
        h.request(id);
    }
    h.advance_to(ms(1305));
    h.join(4);
    h.advance_to(ms(1404));
    assert_eq!(h.publishes.len(), 1);
    h.advance_to(ms(1406));
    assert_eq!(h.publishes.last(), Some(&(ms(1405), 4)));
}

/// ... and at most a period: a first pulse whose company never comes goes with those present.
#[test]
fn without_a_predecessor_the_first_pulse_waits_for_company_at_most_a_period() {
    let mut h = Harness::new(config(10, 1000));
    h.engine = Engine::after(config(10, 1000), Nanos::ZERO, Predecessor::None);
    for id in 0..3 {
        h.request(id);
    }
    h.advance_to(ms(10));
    h.join(1);
    h.advance_to(ms(1009));
    assert!(h.publishes.is_empty());
    h.advance_to(ms(1011));
    assert_eq!(h.publishes, vec![(ms(1010), 1)]);
}

/// A predecessor known to have last pulsed 700 ms before the start (it stopped cleanly, or its heartbeat says it
/// died that long ago): the first pulse waits only for the rest of the spacing, admission waits the settle.
#[test]
fn after_a_known_predecessor_the_first_pulse_waits_only_the_rest_of_its_period() {
    let mut h = Harness::new(config(10, 1000));
    h.engine = Engine::after(
        config(10, 1000),
        Nanos::ZERO,
        Predecessor::Ran { quiet_for: ms(700) },
    );
    for id in 0..10 {
        h.request(id);
    }
    h.advance_to(ms(499));
    assert!(h.admitted.is_empty(), "admitted during the settle");
    h.advance_to(ms(500));
    h.join(10);
    h.advance_to(ms(1010));
    // 1005 ms of spacing, 700 of which had passed before the start.
    assert_eq!(h.publishes, vec![(ms(500), 10)]);
}

/// Long quiet: the spacing is over before the start; only the settle remains.
#[test]
fn after_a_predecessor_quiet_for_longer_than_a_period_only_the_settle_remains() {
    let mut h = Harness::new(config(10, 1000));
    h.engine = Engine::after(
        config(10, 1000),
        Nanos::ZERO,
        Predecessor::Ran {
            quiet_for: Nanos::from_secs(3600),
        },
    );
    h.request(0);
    h.advance_to(ms(500));
    assert_eq!(h.admitted.len(), 1);
    h.join(1);
    h.advance_to(ms(600));
    assert_eq!(h.publishes, vec![(ms(500), 1)]);
}

/// No predecessor: a lone worker asking a freshly started daemon is admitted and pulsed at once.
#[test]
fn without_a_predecessor_a_lone_worker_is_served_at_once() {
    let mut h = Harness::new(config(10, 1000));
    h.engine = Engine::after(config(10, 1000), Nanos::ZERO, Predecessor::None);
    h.advance_to(ms(3));
    h.request(0);
    assert_eq!(h.admitted.len(), 1);
    h.join(1);
    assert_eq!(h.publishes, vec![(ms(3), 1)]);
}

#[test]
fn subscriptions_left_behind_by_a_predecessor_take_places_and_the_first_pulse_serves_them_within_n()
{
    let mut h = Harness::restarted(config(10, 1000));
    for id in 0..10 {
        h.request(id);
    }
    // Four workers the predecessor had admitted reconnect and hand over their live subscriptions.
    h.advance_to(ms(120));
    for _ in 0..4 {
        h.event(Event::Subscribed);
    }
    h.advance_to(ms(500));
    assert_eq!(
        h.admitted.len(),
        6,
        "the left-behind subscriptions count as admitted workers"
    );
    h.join(6);
    h.advance_to(ms(1010));
    assert_eq!(h.publishes, vec![(ms(1005), 10)]);
    assert_eq!(h.held, 0);
    // The other four are admitted for the next pulse once the receivers leave.
    h.leave_and_succeed(10);
    assert_eq!(h.admitted.len(), 10);
}
