//! Socket options the `zmq` crate (0.9) does not wrap, set through libzmq's C API.
//!
//! The daemon needs `ZMQ_XPUB_VERBOSER` (libzmq ≥ 4.2): with it the publisher reports *every* unsubscription,
//! including the implicit one when a subscriber's connection ends, so the daemon can count exactly who the next
//! pulse reaches. It also needs to know which connection an admission request came in on (`ZMQ_SRCFD`), so that
//! the socket monitor's "disconnected" events can be matched to admitted workers. Five system calls live
//! here for the same reason (a C call the safe crates do not offer): [`trim_heap`] gives memory that libzmq freed
//! after a flood back to the system, [`raise_open_files_limit`] lifts the soft descriptor limit to the hard one
//! so that the daemon's connection limit sits well below it, [`wait_readable`] is the daemon loop's one `ppoll` on
//! the sockets' `ZMQ_FD` (nanosecond timeouts, which `zmq_poll` lacks), [`set_timer_slack`] keeps the kernel
//! from ending that wait up to 50 µs late, and [`effective_uid`] lets the daemon trust only a state file its own
//! user wrote. This crate is the only place in the daemon's stack with `unsafe`; it must never hold on to a
//! socket or message pointer beyond one call.

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

/// Waits until one of `fds` is readable or `timeout` has passed (`None`: without end) and marks in `readable`
/// (as long as `fds`) which are. Unlike `zmq_poll`, whose timeout counts whole milliseconds and which asks every
/// socket for its events twice per call, this is one `ppoll` with nanosecond timeouts: the daemon polls the
/// sockets' `ZMQ_FD` descriptors with it and reads the sockets that signalled. A signal ends the wait early with
/// nothing readable (`Ok(0)`). Returns how many descriptors are readable.
pub fn wait_readable(
    fds: &[std::os::fd::RawFd],
    timeout: Option<std::time::Duration>,
    readable: &mut [bool],
) -> std::io::Result<usize> {
    let mut polled: Vec<libc::pollfd> = fds
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let spec = timeout.map(|t| libc::timespec {
        tv_sec: libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
        // Below 10^9: fits a c_long on every target.
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let spec_ptr = spec
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `polled` is a valid array of `polled.len()` pollfd structs that lives across the call and that
    // ppoll only writes `revents` of; `spec_ptr` is null or points at `spec` on our stack, alive for the call; a
    // null signal mask leaves the thread's mask as it is.
    let rc = unsafe {
        libc::ppoll(
            polled.as_mut_ptr(),
            polled.len() as libc::nfds_t,
            spec_ptr,
            std::ptr::null(),
        )
    };
    if rc < 0 {
        let error = std::io::Error::last_os_error();
        if error.kind() == std::io::ErrorKind::Interrupted {
            readable.iter_mut().for_each(|r| *r = false);
            return Ok(0);
        }
        return Err(error);
    }
    let mut count = 0;
    for (flag, p) in readable.iter_mut().zip(&polled) {
        *flag = p.revents & (libc::POLLIN | libc::POLLERR | libc::POLLHUP) != 0;
        count += usize::from(*flag);
    }
    Ok(count)
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

/// Receives one frame into a libzmq message, hands it to `read` while it is alive, and closes it: the one place
/// where a `zmq_msg_t` is initialised, received into and closed.
///
/// `read` gets a pointer to a received message; it may read the message (data, size, properties) and must not
/// keep the pointer or anything borrowed from it.
fn with_received<T>(
    socket: &mut zmq::Socket,
    flags: i32,
    read: impl FnOnce(*mut zmq_sys::zmq_msg_t) -> T,
) -> Result<T, zmq::Error> {
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
        Ok(read(msg))
    };
    // SAFETY: `msg` was initialised above and is closed exactly once; `read` kept nothing of it.
    unsafe { zmq_sys::zmq_msg_close(msg) };
    outcome
}

/// The bytes of a received message, copied out.
///
/// # Safety
/// `msg` must point to a message that holds a received frame and has not been closed.
unsafe fn copy_bytes(msg: *mut zmq_sys::zmq_msg_t) -> Vec<u8> {
    // SAFETY: per the contract, the data pointer is valid for `size` bytes until the message is closed, and the
    // bytes are copied before that.
    unsafe {
        let data = zmq_sys::zmq_msg_data(msg).cast::<u8>();
        let size = zmq_sys::zmq_msg_size(msg);
        if data.is_null() || size == 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts(data, size).to_vec()
        }
    }
}

/// Receives one frame with its source file descriptor (`zmq_msg_recv` and `zmq_msg_get(ZMQ_SRCFD)`).
pub fn recv_frame(socket: &mut zmq::Socket, flags: i32) -> Result<Frame, zmq::Error> {
    with_received(socket, flags, |msg| {
        // SAFETY: `with_received` hands over a received, open message; these calls only read it.
        let (bytes, more, fd) = unsafe {
            (
                copy_bytes(msg),
                zmq_sys::zmq_msg_more(msg) != 0,
                zmq_sys::zmq_msg_get(msg, ZMQ_SRCFD),
            )
        };
        Frame {
            bytes,
            more,
            source_fd: (fd >= 0).then_some(fd),
        }
    })
}

/// One single-frame message received from `socket` with the value of one of its metadata properties
/// (`zmq_msg_gets`): e.g. a property the daemon's ZAP handler attached to the connection it came from. Further
/// frames of the same message, if any, are read and dropped; `more_frames` says whether there were any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    /// The first frame's bytes.
    pub bytes: Vec<u8>,
    /// The message had more than one frame.
    pub more_frames: bool,
    /// The property's value, if the message carries it.
    pub property: Option<String>,
}

/// Receives one message and reads the metadata property `name` of its first frame.
pub fn recv_tagged(socket: &mut zmq::Socket, flags: i32, name: &str) -> Result<Tagged, zmq::Error> {
    let name = std::ffi::CString::new(name).map_err(|_| zmq::Error::EINVAL)?;
    let outcome = with_received(socket, flags, |msg| {
        // SAFETY: `with_received` hands over a received, open message. `zmq_msg_gets` returns NULL or a
        // NUL-terminated string owned by the message's metadata, which lives as long as the message; it is copied
        // before the close.
        unsafe {
            let value = zmq_sys::zmq_msg_gets(msg, name.as_ptr());
            let property = if value.is_null() {
                None
            } else {
                Some(
                    std::ffi::CStr::from_ptr(value)
                        .to_string_lossy()
                        .into_owned(),
                )
            };
            Tagged {
                bytes: copy_bytes(msg),
                more_frames: zmq_sys::zmq_msg_more(msg) != 0,
                property,
            }
        }
    });
    let mut tagged = outcome?;
    let mut more = tagged.more_frames;
    while more {
        more = recv_frame(socket, zmq::DONTWAIT)?.more;
    }
    tagged.more_frames |= more;
    Ok(tagged)
}

/// Returns the free memory at the top of the C heap and in its arenas to the system (`malloc_trim(0)`, glibc).
///
/// libzmq allocates through the C heap; after a flood of connections or messages it frees that memory, but glibc
/// keeps it mapped in the process (RSS stays high) until asked. True when memory was released. A no-op returning
/// false where glibc is not the C library.
pub fn trim_heap() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `malloc_trim` takes no pointers and only walks glibc's own heap under its own locks.
        unsafe { libc::malloc_trim(0) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Sets the calling thread's timer slack (`prctl(PR_SET_TIMERSLACK)`, Linux): how much later than asked the
/// kernel may end a timed wait, so that it can batch wake-ups. The default, 50 µs, is added to every pulse's
/// period on a busy machine; the daemon's loop asks for 1 µs. False where it is not supported or was refused.
pub fn set_timer_slack(slack: std::time::Duration) -> bool {
    #[cfg(target_os = "linux")]
    {
        // Zero would mean "back to the default"; one nanosecond is the least.
        let nanos = libc::c_ulong::try_from(slack.as_nanos().max(1)).unwrap_or(libc::c_ulong::MAX);
        // SAFETY: PR_SET_TIMERSLACK takes its value by integer and no pointer; it only changes a field of the
        // calling thread.
        unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, nanos, 0, 0, 0) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = slack;
        false
    }
}

/// The process's effective user id (`geteuid`): the daemon trusts a state file only when it owns it.
pub fn effective_uid() -> u32 {
    // SAFETY: `geteuid` takes no arguments, touches no memory of ours and cannot fail.
    unsafe { libc::geteuid() }
}

/// Raises the soft limit on open file descriptors to the hard limit and returns the soft limit now in force
/// (`None` when it cannot be read). Every connection costs one descriptor; at the limit libzmq's listener cannot
/// accept and retries without pause, so the daemon keeps its own connection limit below this figure.
pub fn raise_open_files_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` on our stack for the duration of the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `raised` is a valid `rlimit` on our stack; the kernel copies it.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    // RLIM_INFINITY reads as u64::MAX: no limit worth counting against. `rlim_t` is u64 on Linux but not on
    // every platform, hence the cast.
    #[allow(clippy::unnecessary_cast)]
    Some(limit.rlim_cur as u64)
}

// zmq-sys declares `zmq_curve_public` but does not export it; libzmq (≥ 4.2) is linked through zmq-sys already.
extern "C" {
    fn zmq_curve_public(
        z85_public_key: *mut std::os::raw::c_char,
        z85_secret_key: *const std::os::raw::c_char,
    ) -> c_int;
}

/// The CURVE public key (Z85, 40 characters) that belongs to a Z85 secret key (`zmq_curve_public`), so that the
/// daemon can print the key its clients need. `None` when the secret is not 40 Z85 characters or libzmq was built
/// without CURVE.
pub fn curve_public_key(secret_z85: &str) -> Option<String> {
    if secret_z85.len() != 40 || !secret_z85.is_ascii() {
        return None;
    }
    let secret = std::ffi::CString::new(secret_z85).ok()?;
    let mut public = [0u8; 41];
    // SAFETY: `public` has room for 40 characters and the terminating NUL, as `zmq_curve_public` requires;
    // `secret` is a NUL-terminated 40-character string; libzmq keeps neither pointer after the call.
    let rc = unsafe { zmq_curve_public(public.as_mut_ptr().cast(), secret.as_ptr()) };
    if rc != 0 {
        return None;
    }
    String::from_utf8(public[..40].to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calling thread's timer slack, in nanoseconds, as the kernel reports it.
    #[cfg(target_os = "linux")]
    fn timer_slack_now() -> i32 {
        // SAFETY: PR_GET_TIMERSLACK takes no pointer and returns the calling thread's slack.
        unsafe { libc::prctl(libc::PR_GET_TIMERSLACK, 0, 0, 0, 0) }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_timer_slack_is_set_for_the_calling_thread_only() {
        let other = std::thread::spawn(|| {
            assert!(set_timer_slack(std::time::Duration::from_micros(1)));
            timer_slack_now()
        });
        assert_eq!(other.join().ok(), Some(1_000));
        assert_ne!(timer_slack_now(), 1_000, "this thread keeps its own");
        let zero = std::thread::spawn(|| {
            assert!(set_timer_slack(std::time::Duration::ZERO));
            timer_slack_now()
        });
        assert_eq!(zero.join().ok(), Some(1), "zero would restore the default");
    }

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
    fn the_effective_uid_owns_what_this_process_creates() {
        use std::os::unix::fs::MetadataExt;
        let path = std::env::temp_dir().join(format!("pulsar-sockopt-uid-{}", std::process::id()));
        std::fs::write(&path, b"x").expect("write");
        let owner = std::fs::metadata(&path).expect("metadata").uid();
        let _ = std::fs::remove_file(&path);
        assert_eq!(owner, effective_uid());
    }

    #[test]
    fn the_descriptor_limit_is_known_and_trimming_does_not_fail() {
        let limit = raise_open_files_limit().expect("getrlimit works on Linux");
        assert!(limit >= 64, "{limit}");
        assert_eq!(
            raise_open_files_limit(),
            Some(limit),
            "a second raise changes nothing"
        );
        // Whether anything was released depends on the heap; the call must simply be safe to make.
        let _ = trim_heap();
    }

    #[test]
    fn a_secret_key_gives_its_public_key() {
        let pair = zmq::CurveKeyPair::new().expect("libzmq with CURVE");
        let secret = zmq::z85_encode(&pair.secret_key).expect("z85");
        let public = zmq::z85_encode(&pair.public_key).expect("z85");
        assert_eq!(curve_public_key(&secret), Some(public));
        assert_eq!(curve_public_key("too short"), None);
    }

    #[test]
    fn an_unknown_socket_type_refuses_the_option() {
        let ctx = zmq::Context::new();
        let mut req = ctx.socket(zmq::REQ).expect("req");
        assert!(set_xpub_verboser(&mut req, true).is_err());
    }
}
