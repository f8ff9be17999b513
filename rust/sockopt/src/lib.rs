//! Socket options the `zmq` crate (0.9) does not wrap, set through libzmq's C API.
//!
//! The daemon needs `ZMQ_XPUB_VERBOSER` (libzmq ≥ 4.2): with it the publisher reports *every* unsubscription,
//! including the implicit one when a subscriber's connection ends, so the daemon can count exactly who the next
//! pulse reaches. It also needs to know which connection an admission request came in on (`ZMQ_SRCFD`), so that
//! the socket monitor's "disconnected" events can be matched to admitted workers. This crate is the only place in
//! the daemon's stack with `unsafe`; it must never hold on to a socket or message pointer beyond one call.

use std::os::raw::{c_int, c_void};

/// `ZMQ_XPUB_VERBOSER` from `zmq.h` (stable since libzmq 4.2).
pub const ZMQ_XPUB_VERBOSER: c_int = 78;

/// Sets an integer socket option by number.
fn set_int(socket: &mut zmq::Socket, option: c_int, value: c_int) -> Result<(), zmq::Error> {
    let raw = socket.as_mut_ptr();
    // SAFETY: `raw` is the live socket behind `socket`, borrowed mutably for the duration of this call, so no
    // other thread uses it meanwhile; the value pointer and its length describe `value`, a `c_int` on our
    // stack that outlives the call; libzmq copies the value and keeps no pointer to it.
    let rc = unsafe {
        zmq_sys::zmq_setsockopt(
            raw,
            option,
            (&value as *const c_int).cast::<c_void>(),
            std::mem::size_of::<c_int>(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        // SAFETY: `zmq_errno` only reads the calling thread's errno.
        Err(zmq::Error::from_raw(unsafe { zmq_sys::zmq_errno() }))
    }
}

/// Makes an XPUB socket pass every subscribe *and* unsubscribe message up, including those of connections
/// that end (`ZMQ_XPUB_VERBOSER`; it implies `ZMQ_XPUB_VERBOSE`).
pub fn set_xpub_verboser(socket: &mut zmq::Socket, on: bool) -> Result<(), zmq::Error> {
    set_int(socket, ZMQ_XPUB_VERBOSER, c_int::from(on))
}

/// `ZMQ_SRCFD` from `zmq.h`: the file descriptor of the connection a message was read from.
const ZMQ_SRCFD: c_int = 2;

/// One frame received from `socket`, with what libzmq knows of where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The frame's bytes.
    pub bytes: Vec<u8>,
    /// More frames of the same message follow.
    pub more: bool,
    /// The file descriptor of the connection it arrived on (`ZMQ_SRCFD`), if libzmq knows one (TCP and IPC do;
    /// inproc does not).
    pub source_fd: Option<i32>,
}

/// Receives one frame with its source file descriptor (`zmq_msg_recv` and `zmq_msg_get(ZMQ_SRCFD)`).
pub fn recv_frame(socket: &mut zmq::Socket, flags: i32) -> Result<Frame, zmq::Error> {
    let raw = socket.as_mut_ptr();
    let mut msg = std::mem::MaybeUninit::<zmq_sys::zmq_msg_t>::uninit();
    // SAFETY: `zmq_msg_init` initialises the message struct it is given; `msg` is ours and lives to the end.
    unsafe { zmq_sys::zmq_msg_init(msg.as_mut_ptr()) };
    let msg = msg.as_mut_ptr();
    // SAFETY: `raw` is the live socket behind the mutable borrow, `msg` an initialised message.
    let rc = unsafe { zmq_sys::zmq_msg_recv(msg, raw, flags) };
    let outcome = if rc < 0 {
        // SAFETY: reads the calling thread's errno only.
        Err(zmq::Error::from_raw(unsafe { zmq_sys::zmq_errno() }))
    } else {
        // SAFETY: `msg` holds a received message: its data pointer is valid for its size until it is closed,
        // and the bytes are copied out before that.
        let bytes = unsafe {
            let data = zmq_sys::zmq_msg_data(msg).cast::<u8>();
            let size = zmq_sys::zmq_msg_size(msg);
            if data.is_null() || size == 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts(data, size).to_vec()
            }
        };
        // SAFETY: `msg` is a received message; both calls only read its properties.
        let (more, fd) = unsafe {
            (
                zmq_sys::zmq_msg_more(msg) != 0,
                zmq_sys::zmq_msg_get(msg, ZMQ_SRCFD),
            )
        };
        Ok(Frame {
            bytes,
            more,
            source_fd: (fd >= 0).then_some(fd),
        })
    };
    // SAFETY: `msg` was initialised above and is closed exactly once; nothing refers to it afterwards.
    unsafe { zmq_sys::zmq_msg_close(msg) };
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option takes on a real XPUB: an unsubscription of one of two subscribers reaches the publisher, which
    /// plain `XPUB_VERBOSE` would hold back (the topic still has a subscriber).
    #[test]
    fn every_unsubscription_reaches_the_publisher() {
        let ctx = zmq::Context::new();
        let mut xpub = ctx.socket(zmq::XPUB).expect("xpub");
        set_xpub_verboser(&mut xpub, true).expect("libzmq >= 4.2 knows ZMQ_XPUB_VERBOSER");
        xpub.bind("inproc://verboser").expect("bind");
        let subs: Vec<zmq::Socket> = (0..2)
            .map(|_| {
                let s = ctx.socket(zmq::SUB).expect("sub");
                s.connect("inproc://verboser").expect("connect");
                s.set_subscribe(b"").expect("subscribe");
                s
            })
            .collect();
        xpub.set_rcvtimeo(2000).expect("rcvtimeo");
        for _ in 0..2 {
            assert_eq!(xpub.recv_bytes(0).expect("subscribe message"), vec![1]);
        }
        subs[0].set_unsubscribe(b"").expect("unsubscribe");
        assert_eq!(xpub.recv_bytes(0).expect("unsubscribe message"), vec![0]);
        drop(subs);
        assert_eq!(xpub.recv_bytes(0).expect("end of a connection"), vec![0]);
    }

    /// A ROUTER on a loopback port with one REQ peer whose "hello" is on its way (the REQ must outlive the test's
    /// reads: it is returned).
    fn router_with_a_request(ctx: &zmq::Context) -> (zmq::Socket, zmq::Socket) {
        let router = ctx.socket(zmq::ROUTER).expect("router");
        router.bind("tcp://127.0.0.1:*").expect("bind");
        let endpoint = router
            .get_last_endpoint()
            .expect("endpoint")
            .expect("utf-8 endpoint");
        let req = ctx.socket(zmq::REQ).expect("req");
        req.connect(&endpoint).expect("connect");
        req.send(&b"hello"[..], 0).expect("send");
        (router, req)
    }

    #[test]
    fn a_frame_says_which_connection_it_came_from() {
        let ctx = zmq::Context::new();
        let (mut router, _req) = router_with_a_request(&ctx);
        router.set_rcvtimeo(2000).expect("rcvtimeo");
        let id = recv_frame(&mut router, 0).expect("routing id");
        assert!(id.more && id.source_fd.is_some_and(|fd| fd >= 0), "{id:?}");
        let delimiter = recv_frame(&mut router, 0).expect("delimiter");
        assert!(delimiter.more && delimiter.bytes.is_empty());
        let body = recv_frame(&mut router, 0).expect("body");
        assert_eq!((body.bytes.as_slice(), body.more), (&b"hello"[..], false));
        assert!(matches!(
            recv_frame(&mut router, zmq::DONTWAIT),
            Err(zmq::Error::EAGAIN)
        ));
    }

    #[test]
    fn after_a_poll_the_wire_frames_still_say_which_connection() {
        // libzmq 4.3 prefetches the message when a poll asks whether the ROUTER is readable, and the routing id
        // it makes up then carries no connection: the daemon takes it from the frames that came off the wire.
        let ctx = zmq::Context::new();
        let (mut router, _req) = router_with_a_request(&ctx);
        let mut items = [router.as_poll_item(zmq::POLLIN)];
        assert_eq!(zmq::poll(&mut items, 2000).expect("poll"), 1);
        let frames: Vec<Frame> = (0..3)
            .map(|_| recv_frame(&mut router, zmq::DONTWAIT).expect("a frame"))
            .collect();
        assert_eq!(frames[2].bytes, b"hello");
        assert!(
            frames.iter().any(|f| f.source_fd.is_some_and(|fd| fd >= 0)),
            "{frames:?}"
        );
    }

    #[test]
    fn an_unknown_socket_type_refuses_the_option() {
        let ctx = zmq::Context::new();
        let mut req = ctx.socket(zmq::REQ).expect("req");
        assert!(set_xpub_verboser(&mut req, true).is_err());
    }
}
