//! The admission link: the REQ socket a Performer asks for admission on, and the watch on its connection that
//! makes a restarted daemon serve the worker at once.
//!
//! A request that went out over a connection that then broke is lost with the daemon that read it: a plain REQ
//! socket would wait out the whole admission timeout (60 s by default) for a reply that cannot come. So the REQ
//! socket is relaxed (`ZMQ_REQ_RELAXED`: it may send again before a reply) and correlating
//! (`ZMQ_REQ_CORRELATE`: a request id frame in the envelope, so that only the reply to the latest request is
//! taken), and a socket monitor reports its connections. When a connection comes up after the one the request
//! went over was lost, the request is sent again at once. The daemon echoes the whole envelope and keeps one
//! place per peer when a waiting peer asks again (`docs/protocol.md` §1), so a request that reaches it twice
//! costs nothing.
//!
//! It must never decide anything about admission itself, wait without a bound, or keep a request alive after
//! its caller gave up (a timed-out link is closed with no linger, see [`AdmissionLink::discard`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::PulsarError;

use super::socket::{connect, curve_client, millis, recv_if_ready, LINGER};
use super::PerformerConfig;

/// Makes each monitor's inproc endpoint unique within the process (inproc names live in a context, and
/// Performers may share one).
static NEXT_MONITOR: AtomicU64 = AtomicU64::new(0);

/// The monitor's event frame: `[event: u16 LE, value: u32 LE]`, then a frame with the endpoint.
const EVENT_CONNECTED: u16 = zmq::SocketEvent::CONNECTED as u16;
const EVENT_DISCONNECTED: u16 = zmq::SocketEvent::DISCONNECTED as u16;

/// A REQ socket connected to the admission desk, with a monitor on its connections.
pub(super) struct AdmissionLink {
    request: zmq::Socket,
    /// PAIR socket receiving the REQ socket's connection events.
    monitor: zmq::Socket,
}

impl AdmissionLink {
    /// Creates the REQ socket and its monitor and connects (lazily, as ZeroMQ always does).
    pub(super) fn open(
        context: &zmq::Context,
        config: &PerformerConfig,
    ) -> Result<AdmissionLink, PulsarError> {
        let request = context
            .socket(zmq::REQ)
            .map_err(PulsarError::zmq("creating the REQ socket"))?;
        request
            .set_linger(millis(LINGER))
            .map_err(PulsarError::zmq("setting LINGER on the REQ socket"))?;
        request
            .set_sndtimeo(millis(config.send_timeout))
            .map_err(PulsarError::zmq("setting SNDTIMEO on the REQ socket"))?;
        request
            .set_req_relaxed(true)
            .map_err(PulsarError::zmq("setting REQ_RELAXED on the REQ socket"))?;
        request
            .set_req_correlate(true)
            .map_err(PulsarError::zmq("setting REQ_CORRELATE on the REQ socket"))?;
        let endpoint = format!(
            "inproc://publisher-pulsar-admission-monitor-{}",
            NEXT_MONITOR.fetch_add(1, Ordering::Relaxed)
        );
        request
            .monitor(
                &endpoint,
                (zmq::SocketEvent::CONNECTED as i32) | (zmq::SocketEvent::DISCONNECTED as i32),
            )
            .map_err(PulsarError::zmq("monitoring the REQ socket"))?;
        let monitor = context
            .socket(zmq::PAIR)
            .map_err(PulsarError::zmq("creating the REQ socket's monitor"))?;
        monitor.set_linger(0).map_err(PulsarError::zmq(
            "setting LINGER on the REQ socket's monitor",
        ))?;
        monitor
            .connect(&endpoint)
            .map_err(PulsarError::zmq("connecting the REQ socket's monitor"))?;
        curve_client(&request, config)?;
        // Connected last, so that the monitor sees the first connection too.
        connect(&request, &config.request_pulsar_rs_address)?;
        Ok(AdmissionLink { request, monitor })
    }

    /// Sends `body` and waits at most `timeout` for the reply; `Ok(None)` if none came (the link must then be
    /// discarded). If the connection the request went over breaks and a new one comes up (the daemon
    /// restarted), the request goes again at once over the new one.
    pub(super) fn ask(
        &mut self,
        body: &[u8],
        timeout: Duration,
    ) -> Result<Option<Vec<Vec<u8>>>, PulsarError> {
        let deadline = Instant::now() + timeout;
        // Connection events from before this request (a restart while the worker acted) say nothing about it.
        self.events();
        if !self.send(body)? {
            return Ok(None);
        }
        // A connection was lost since the request went out: what it carried is gone with the daemon.
        let mut lost = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let left_ms = i64::try_from(left.as_nanos().div_ceil(1_000_000)).unwrap_or(i64::MAX);
            let mut items = [
                self.request.as_poll_item(zmq::POLLIN),
                self.monitor.as_poll_item(zmq::POLLIN),
            ];
            match zmq::poll(&mut items, left_ms) {
                Ok(_) | Err(zmq::Error::EINTR) => {}
                Err(source) => {
                    return Err(PulsarError::Zmq {
                        context: "polling the admission socket",
                        source,
                    })
                }
            }
            let (reply_ready, event_ready) = (items[0].is_readable(), items[1].is_readable());
            if reply_ready {
                if let Some(frames) = recv_if_ready(&self.request, "receiving the admission reply")?
                {
                    return Ok(Some(frames));
                }
            }
            if event_ready {
                for event in self.events() {
                    match event {
                        EVENT_DISCONNECTED => lost = true,
                        EVENT_CONNECTED if lost => {
                            lost = false;
                            tracing::debug!("the admission desk is back: asking again");
                            if !self.send(body)? {
                                return Ok(None);
                            }
                        }
                        _ => {}
                    }
                }
            }
            if Instant::now() >= deadline {
                // One last look, so that a reply that arrived just at the deadline is not lost.
                return Ok(self.request.recv_multipart(zmq::DONTWAIT).ok());
            }
        }
    }

    /// Closes a link whose request went unanswered. No linger: a request still queued must not reach the daemon
    /// later and admit a worker that no longer listens. Closing the connection also tells the daemon to drop
    /// the request it holds.
    pub(super) fn discard(self) {
        if let Err(source) = self.request.set_linger(0) {
            tracing::debug!(%source, "cannot set LINGER 0 on a discarded REQ socket");
        }
        drop(self.request);
        drop(self.monitor);
    }

    /// Sends one request; false if libzmq could not queue it within `sendTimeout`.
    fn send(&self, body: &[u8]) -> Result<bool, PulsarError> {
        loop {
            match self.request.send(body, 0) {
                Ok(()) => return Ok(true),
                Err(zmq::Error::EINTR) => continue,
                // A REQ socket with a connected pipe queues at once; this only happens if libzmq cannot queue.
                Err(zmq::Error::EAGAIN) => return Ok(false),
                Err(source) => {
                    return Err(PulsarError::Zmq {
                        context: "sending the admission request",
                        source,
                    })
                }
            }
        }
    }

    /// The connection events that arrived so far, oldest first. Reading them also keeps the monitor's queue
    /// short: events only arrive when a connection comes or goes.
    fn events(&self) -> Vec<u16> {
        let mut events = Vec::new();
        while let Ok(frames) = self.monitor.recv_multipart(zmq::DONTWAIT) {
            if let Some(head) = frames.first().and_then(|f| f.get(..2)) {
                events.push(u16::from_le_bytes([head[0], head[1]]));
            }
        }
        events
    }
}
