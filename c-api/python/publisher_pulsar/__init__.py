"""Publisher Pulsar for Python: a thin ctypes layer over libpulsar (the C ABI, ``include/pulsar.h``).

Workers ask a pulsar daemon for permission, wait for the pulse, act, and report the result; the daemon releases
at most N workers per period and adapts to the errors they report. This module only converts arguments, calls
the library and turns its status codes into exceptions: Python, C, PHP and Rust callers behave the same by
construction.

    from publisher_pulsar import Performer

    with Performer({"admissionTimeout": 30}) as performer:
        pulse = performer.wait_permission()      # blocks until the daemon releases this worker
        call_the_rate_limited_api()
        performer.report_success()               # or report_slow_down / report_pause_for

The library describes itself (``pulsar_abi_description()``): the exception classes (``PulsarTimeoutError``,
``PulsarInvalidJsonError``, ...) and the ``DaemonStats`` fields are built from that description at import
time, so they cannot drift from the library, and no header is needed at run time.

Finding the library: the copy inside this package (the wheel bundles it), else ``PULSAR_LIB`` (a path to
libpulsar.so), else the repository's cargo target directory (``target/debug`` or ``target/release``, the newer
one; ``CARGO_TARGET_DIR`` honoured; skipped when ``PULSAR_NO_REPO_LIB=1``), else pkg-config's ``pulsar``
libdir, else the system's library path.

Logging: the first ``Performer`` or ``Daemon`` routes the library's records to
``logging.getLogger("publisher_pulsar")`` (``log_to_python()``; ``PULSAR_LOG`` or ``RUST_LOG`` sets the
library-side filter, ``PULSAR_PYTHON_LOG=0`` turns the routing off); they are drained after each call and
every 0.2 s by a background thread. ``log_to_stderr()`` before that chooses standard error instead.

asyncio: ``await performer.wait_permission_async()`` waits in a thread pool, not on the event loop.

Threads: a ``Performer`` belongs to one thread at a time (give each thread its own); ``Daemon.stop()``,
``stats()``, ``endpoints`` and ``performer_config()`` may be called from any thread while ``run()`` blocks in
another. Library calls release the GIL.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import ctypes.util
import json
import logging
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, make_dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Type, Union

__all__ = [
    "Performer",
    "Pulse",
    "Daemon",
    "DaemonStats",
    "PulsarError",
    "STATUS",
    "ABI",
    "library_path",
    "version",
    "log_to_stderr",
    "log_to_python",
    "logger",
]

_PACKAGE = Path(__file__).resolve().parent
_REPO = _PACKAGE.parents[2]

#: Where the library's log records go (after ``log_to_python()``, which the first Performer or Daemon calls).
logger = logging.getLogger("publisher_pulsar")


def _pkg_config_variable(variable: str) -> Optional[str]:
    if shutil.which("pkg-config") is None:
        return None
    try:
        out = subprocess.run(
            ["pkg-config", f"--variable={variable}", "pulsar"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = out.stdout.strip()
    return value if out.returncode == 0 and value else None


def _find_library() -> Path:
    bundled = _PACKAGE / "libpulsar.so"
    if bundled.is_file():  # the wheel's own copy
        return bundled
    env = os.environ.get("PULSAR_LIB")
    if env:
        path = Path(env)
        if not path.is_file():
            raise ImportError(f"PULSAR_LIB={env} is not a file")
        return path
    if os.environ.get("PULSAR_NO_REPO_LIB") != "1":
        target = Path(os.environ.get("CARGO_TARGET_DIR") or _REPO / "target")
        built = [p for p in (target / "debug" / "libpulsar.so", target / "release" / "libpulsar.so") if p.is_file()]
        if built:
            return max(built, key=lambda p: p.stat().st_mtime)
    libdir = _pkg_config_variable("libdir")
    if libdir and (Path(libdir) / "libpulsar.so").is_file():
        return Path(libdir) / "libpulsar.so"
    found = ctypes.util.find_library("pulsar")
    if found:
        return Path(found)
    raise ImportError(
        "libpulsar not found: install the publisher-pulsar wheel (bash c-api/python/build-wheel.sh), set "
        "PULSAR_LIB, build it (cargo build -p pulsar-capi) or install it (make -C c-api install)"
    )


library_path: Path = _find_library()
_lib = ctypes.CDLL(str(library_path))
for _required in ("pulsar_abi_description", "pulsar_status_name"):
    if not hasattr(_lib, _required):
        raise ImportError(f"{library_path} is too old for this module: it has no {_required}()")
_lib.pulsar_abi_description.restype = ctypes.c_char_p
_lib.pulsar_abi_description.argtypes = []
_lib.pulsar_status_name.restype = ctypes.c_char_p
_lib.pulsar_status_name.argtypes = [ctypes.c_uint32]

#: The library's description of its ABI (``pulsar_abi_description()``): status names and numbers, endpoint
#: numbers, the layout of PulsarDaemonStats. The single source of the constants and the stats struct below.
ABI: Dict[str, Any] = json.loads(_lib.pulsar_abi_description().decode("utf-8"))

#: Status name (without the ``PULSAR_STATUS_`` prefix) -> number, as the library describes them.
STATUS: Dict[str, int] = {name: int(number) for name, number in ABI["statuses"].items()}
if STATUS.get("OK") != 0 or len(STATUS) < 2:
    raise ImportError(f"{library_path} describes no PULSAR_STATUS_* constants")
_ENDPOINTS: Dict[str, int] = {name.lower(): int(number) for name, number in ABI["endpoints"].items()}


class PulsarError(Exception):
    """An error reported by libpulsar: ``status`` is its number, ``status_name`` its header name (without
    ``PULSAR_STATUS_``), and the message is the library's own."""

    status: int = -1
    status_name: str = "UNKNOWN"

    def __init__(self, message: str, status: Optional[int] = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __reduce__(self):  # picklable across processes, message and status kept
        return (type(self), (self.message, self.status))


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


# Extra Python bases that make the exceptions catchable in the idiomatic way, by status name.
_EXTRA_BASES: Dict[str, Tuple[Type[BaseException], ...]] = {
    "TIMEOUT": (TimeoutError,),
    "NULL_POINTER": (ValueError,),
    "INVALID_UTF8": (ValueError,),
    "INVALID_ARGUMENT": (ValueError,),
    "INVALID_JSON": (ValueError,),
}

#: Status number -> exception class; one class per PULSAR_STATUS_* constant but OK.
EXCEPTIONS: Dict[int, Type[PulsarError]] = {}
for _name, _number in STATUS.items():
    if _name == "OK":
        continue
    _class_name = "Pulsar" + _camel(_name) + ("" if _name.endswith("_ERROR") else "Error")
    _cls = type(
        _class_name,
        (PulsarError,) + _EXTRA_BASES.get(_name, ()),
        {
            "status": _number,
            "status_name": _name,
            "__doc__": f"libpulsar status PULSAR_STATUS_{_name} ({_number}).",
            "__module__": __name__,
        },
    )
    globals()[_class_name] = _cls
    __all__.append(_class_name)
    EXCEPTIONS[_number] = _cls
__all__.append("EXCEPTIONS")


_C_TYPES = {"uint32_t": ctypes.c_uint32, "uint64_t": ctypes.c_uint64, "bool": ctypes.c_bool}


def _struct_from_description(name: str) -> Type[ctypes.Structure]:
    """A ctypes Structure laid out as the library describes ``name``; the offsets and size ctypes computes are
    checked against the described ones, so a mismatch fails at import rather than reading the wrong bytes."""
    described = ABI["structs"][name]
    fields = sorted(described["fields"], key=lambda f: f["offset"])
    unknown = [f["type"] for f in fields if f["type"] not in _C_TYPES]
    if unknown:
        raise ImportError(f"{name} has field types this module cannot map: {unknown}")
    cls = type("_C" + name, (ctypes.Structure,), {"_fields_": [(f["name"], _C_TYPES[f["type"]]) for f in fields]})
    for field in fields:
        if getattr(cls, field["name"]).offset != field["offset"]:
            raise ImportError(f"{name}.{field['name']}: ctypes puts it at another offset than the library")
    if ctypes.sizeof(cls) != described["size"]:
        raise ImportError(f"{name}: ctypes' size {ctypes.sizeof(cls)} is not the library's {described['size']}")
    return cls


_CStats = _struct_from_description("PulsarDaemonStats")

#: A daemon's counters (the fields of PulsarDaemonStats: n, pause_us, pulses, grants, errors, ...).
DaemonStats = make_dataclass("DaemonStats", [name for name, _ in _CStats._fields_], frozen=True)
DaemonStats.__module__ = __name__
DaemonStats.__doc__ = "A daemon's counters, as libpulsar's PulsarDaemonStats (see include/pulsar.h)."


class _Performer(ctypes.Structure):
    pass


class _Pulse(ctypes.Structure):
    pass


class _Daemon(ctypes.Structure):
    pass


_status = ctypes.c_uint32
_P = ctypes.POINTER


class _ActionResult(ctypes.Structure):
    """``PulsarActionResult`` of include/pulsar.h, field for field. Its flags are ``uint32_t``, never ``bool``:
    the library refuses any value but the listed ones (``has_sleep_for_period`` 0 or 1) with
    ``PulsarInvalidArgumentError``."""

    _fields_ = [
        ("action_complete_correctly", ctypes.c_uint32),
        ("slow_down", ctypes.c_uint32),
        ("error_message", _P(ctypes.c_uint8)),
        ("error_message_len", ctypes.c_size_t),
        ("error_reason", _P(ctypes.c_uint8)),
        ("error_reason_len", ctypes.c_size_t),
        ("has_sleep_for_period", ctypes.c_uint32),
        ("sleep_for_period_us", ctypes.c_uint64),
    ]


def _declare(name: str, restype, *argtypes) -> None:
    function = getattr(_lib, name)
    function.restype = restype
    function.argtypes = list(argtypes)


_declare("pulsar_version", ctypes.c_char_p)
_declare("pulsar_last_error_code", _status)
_declare("pulsar_last_error_message", ctypes.c_char_p)
_declare("pulsar_log_to_stderr", _status, ctypes.c_char_p)
_declare("pulsar_log_to_queue", _status, ctypes.c_char_p, ctypes.c_size_t)
_declare("pulsar_log_next", _status, _P(ctypes.c_char_p))
_declare("pulsar_performer_new", _status, ctypes.c_char_p, _P(_P(_Performer)))
_declare("pulsar_performer_free", None, _P(_Performer))
_declare("pulsar_performer_wait_permission", _status, _P(_Performer), _P(_P(_Pulse)))
_declare("pulsar_performer_report", _status, _P(_Performer), _P(_ActionResult))
_declare("pulsar_performer_report_success", _status, _P(_Performer))
_declare("pulsar_performer_report_slow_down", _status, _P(_Performer), ctypes.c_char_p, ctypes.c_char_p)
_declare(
    "pulsar_performer_report_pause_for", _status, _P(_Performer), ctypes.c_uint64, ctypes.c_char_p, ctypes.c_char_p
)
_declare("pulsar_performer_report_early_termination", _status, _P(_Performer), ctypes.c_bool)
_declare("pulsar_performer_holds_permission", _status, _P(_Performer), _P(ctypes.c_bool))
_declare("pulsar_pulse_class_name", _status, _P(_Pulse), _P(ctypes.c_char_p))
_declare("pulsar_pulse_properties_json", _status, _P(_Pulse), _P(ctypes.c_char_p))
_declare("pulsar_pulse_bytes", _status, _P(_Pulse), _P(_P(ctypes.c_uint8)), _P(ctypes.c_size_t))
_declare("pulsar_pulse_free", None, _P(_Pulse))
_declare("pulsar_daemon_new", _status, ctypes.c_char_p, _P(_P(_Daemon)))
_declare("pulsar_daemon_run", _status, _P(_Daemon))
_declare("pulsar_daemon_stop", _status, _P(_Daemon))
_declare("pulsar_daemon_stats", _status, _P(_Daemon), _P(_CStats))
_declare("pulsar_daemon_endpoint", _status, _P(_Daemon), ctypes.c_uint32, _P(ctypes.c_char_p))
_declare("pulsar_daemon_performer_config", _status, _P(_Daemon), _P(ctypes.c_char_p))
_declare("pulsar_daemon_free", None, _P(_Daemon))


def _check(status: int) -> None:
    """Raises the exception for a failed call, with the calling thread's last-error message; hands the log
    records the call produced to Python logging first."""
    if status == 0:
        _drain_log()
        return
    raw = _lib.pulsar_last_error_message()
    message = raw.decode("utf-8", "replace") if raw else ""
    _drain_log()
    raise EXCEPTIONS.get(status, PulsarError)(message, status)


def version() -> str:
    """libpulsar's version, e.g. ``"0.1.0"``."""
    return _lib.pulsar_version().decode()


# Logging: the library's records are queued inside it (pulsar_log_to_queue) and drained into
# logging.getLogger("publisher_pulsar") after each call and by a background thread. One destination per process.
_LEVELS = {
    "ERROR": logging.ERROR,
    "WARN": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
    "TRACE": 5,
}
_log_lock = threading.RLock()
_log_mode: Optional[str] = None  # None (not chosen yet), "python", "stderr", "elsewhere"
_drain_stop = threading.Event()
_drainer: Optional[threading.Thread] = None
#: Seconds between two background drains.
LOG_DRAIN_INTERVAL = 0.2


_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_controls(text: str) -> str:
    """``text`` with its control characters as visible escapes, as every human log format of the project writes
    them (``\\n``, ``\\r``, ``\\t``, ``\\x1b`` for the other ASCII controls, ``\\u{85}`` beyond): one record,
    one line, whatever a peer put into an error message or a class name."""

    def one(match: "re.Match[str]") -> str:
        c = match.group(0)
        if c in _NAMED_CONTROLS:
            return _NAMED_CONTROLS[c]
        return f"\\x{ord(c):02x}" if ord(c) < 0x80 else f"\\u{{{ord(c):x}}}"

    return _CONTROLS.sub(one, text)


def _emit(text: bytes) -> None:
    try:
        record = json.loads(text.decode("utf-8", "replace"))
    except ValueError:
        logger.warning("libpulsar log record that is not JSON: %r", text)
        return
    level = _LEVELS.get(record.get("level", ""), logging.INFO)
    if not logger.isEnabledFor(level):
        return
    fields = record.get("fields") or {}
    # The message is a human line (control characters escaped); `pulsar_fields` keeps the exact values.
    message = _escape_controls(str(record.get("message", "")))
    if fields:
        message += " " + " ".join(f"{key}={_escape_controls(str(value))}" for key, value in fields.items())
    logger.log(
        level, "%s", message, extra={"pulsar_target": record.get("target", ""), "pulsar_fields": fields}
    )


def _drain_log() -> int:
    """Hands every queued record to ``logger``; returns how many. Cheap (one call) when the queue is empty."""
    if _log_mode != "python":
        return 0
    count = 0
    with _log_lock:  # one drainer at a time, so records keep their order
        while True:
            out = ctypes.c_char_p()
            if _lib.pulsar_log_next(ctypes.byref(out)) != 0 or not out.value:
                return count
            _emit(out.value)  # .value is a copy, taken before the next call on this thread
            count += 1


def _drain_loop() -> None:
    while not _drain_stop.wait(LOG_DRAIN_INTERVAL):
        try:
            _drain_log()
        except Exception:  # a broken handler must not kill the drain
            pass


def _stop_drainer() -> None:
    _drain_stop.set()
    if _drainer is not None:
        _drainer.join(timeout=2)
    try:
        _drain_log()
    except Exception:
        pass


def log_to_python(filter: Optional[str] = None, capacity: int = 10000) -> bool:
    """Sends the library's log records to ``logging.getLogger("publisher_pulsar")`` (levels mapped, the
    record's fields in ``extra={"pulsar_fields": ..., "pulsar_target": ...}``). ``filter`` is the library-side
    filter (None: ``PULSAR_LOG``, else ``RUST_LOG``, else ``info``); Python's levels and handlers filter further.
    The first Performer or Daemon calls this; call it earlier for another filter. Returns False when another
    destination was already chosen for the process (``log_to_stderr``, or a host that set up tracing)."""
    global _log_mode, _drainer
    with _log_lock:
        if _log_mode is not None:
            return _log_mode == "python"
        chosen = filter if filter is not None else os.environ.get("PULSAR_LOG")
        status = _lib.pulsar_log_to_queue(None if chosen is None else _text_arg(chosen, "filter"), capacity)
        if status == STATUS["OUT_OF_ORDER"]:
            _log_mode = "elsewhere"
            return False
        _check(status)
        _log_mode = "python"
        _drainer = threading.Thread(target=_drain_loop, name="pulsar-log-drain", daemon=True)
        _drainer.start()
        atexit.register(_stop_drainer)
        return True


def log_to_stderr(filter: Optional[str] = None) -> None:
    """Sends the library's log lines to standard error instead of Python logging (once per process, before
    the first Performer or Daemon); ``filter`` like ``"debug"``."""
    global _log_mode
    with _log_lock:
        _check(_lib.pulsar_log_to_stderr(None if filter is None else _text_arg(filter, "filter")))
        _log_mode = "stderr"


def _ensure_logging() -> None:
    if _log_mode is None and os.environ.get("PULSAR_PYTHON_LOG") != "0":
        log_to_python()


def _text_arg(value: Union[str, bytes], name: str) -> bytes:
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if b"\0" in data:
        raise ValueError(f"{name} must not contain NUL characters (C strings end at the first one)")
    return data


def _config_arg(config: Union[None, Mapping[str, Any], str, bytes], name: str) -> Optional[bytes]:
    """A configuration as the library takes it: a mapping as JSON, JSON text as it is, None for defaults."""
    if config is None:
        return None
    if isinstance(config, Mapping):
        return _text_arg(json.dumps(dict(config)), name)
    if isinstance(config, (str, bytes, bytearray)):
        return _text_arg(config, name)
    raise TypeError(f"{name} must be a dict, JSON text or None, not {type(config).__name__}")


def _serialized(method):
    """Runs a Performer method under the performer's lock: a wait left running in an executor thread (a
    cancelled ``wait_permission_async``) finishes before the next call on the same performer starts."""

    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    wrapper.__name__ = method.__name__
    wrapper.__qualname__ = method.__qualname__
    wrapper.__doc__ = method.__doc__
    return wrapper


@dataclass(frozen=True)
class Pulse:
    """A received pulse: the published object's class name, its properties (decoded from the library's JSON
    rendering: PHP strings as UTF-8 with invalid bytes replaced, nested objects with a ``"__class"`` key, lists
    as lists) and the exact ``serialize()`` bytes as published."""

    class_name: str
    properties: Dict[str, Any]
    raw: bytes

    @property
    def allow_action(self) -> bool:
        """The ``allowAction`` property (true when absent)."""
        return bool(self.properties.get("allowAction", True))


class Performer:
    """A worker's connection to a pulsar daemon.

    ``config`` is None for the defaults, or a dict (or JSON text) with the keys of ``pulsar_performer_new``:
    ``publisherPulsarSocketAddress``, ``pushPulsarSocketAddress``, ``requestPulsarRsSocketAddress``,
    ``moduleName``, and the timeouts in seconds ``admissionTimeout`` (60), ``pulseTimeout`` (30),
    ``sendTimeout`` (5). Use it from one thread at a time; close it (or use ``with``) to free its sockets.
    """

    def __init__(self, config: Union[None, Mapping[str, Any], str, bytes] = None):
        _ensure_logging()
        self._lock = threading.RLock()
        handle = _P(_Performer)()
        _check(_lib.pulsar_performer_new(_config_arg(config, "config"), ctypes.byref(handle)))
        self._handle = handle

    def _live(self):
        if not self._handle:
            raise ValueError("this Performer is closed")
        return self._handle

    @_serialized
    def wait_permission(self) -> Pulse:
        """Blocks until the daemon releases this worker (admission, subscription, pulse); returns the pulse.
        Raises ``PulsarTimeoutError`` (daemon absent, queue too long, no pulse), ``PulsarAdmissionRefusedError``,
        ``PulsarActionNotAllowedError``, ... The next call after an error starts afresh."""
        pulse = _P(_Pulse)()
        _check(_lib.pulsar_performer_wait_permission(self._live(), ctypes.byref(pulse)))
        try:
            class_name = ctypes.c_char_p()
            properties = ctypes.c_char_p()
            data = _P(ctypes.c_uint8)()
            length = ctypes.c_size_t()
            _check(_lib.pulsar_pulse_class_name(pulse, ctypes.byref(class_name)))
            _check(_lib.pulsar_pulse_properties_json(pulse, ctypes.byref(properties)))
            _check(_lib.pulsar_pulse_bytes(pulse, ctypes.byref(data), ctypes.byref(length)))
            return Pulse(
                class_name=(class_name.value or b"").decode("utf-8"),
                properties=json.loads((properties.value or b"{}").decode("utf-8")),
                raw=ctypes.string_at(data, length.value),
            )
        finally:
            _lib.pulsar_pulse_free(pulse)

    @_serialized
    def report_success(self) -> None:
        """Reports a successful action. Raises ``PulsarOutOfOrderError`` without a permission held."""
        _check(_lib.pulsar_performer_report_success(self._live()))

    @_serialized
    def report_slow_down(self, message: Union[str, bytes], reason: Union[str, bytes] = "") -> None:
        """Reports a rate-limit error: the daemon releases one worker fewer per pulse (or pauses longer).
        ``message`` must not be empty."""
        _check(
            _lib.pulsar_performer_report_slow_down(
                self._live(), _text_arg(message, "message"), _text_arg(reason, "reason")
            )
        )

    @_serialized
    def report_pause_for(self, micros: int, message: Union[str, bytes], reason: Union[str, bytes] = "") -> None:
        """Reports an error asking the daemon to stop pulsing for ``micros`` microseconds (e.g. a daily quota)."""
        if not 0 <= micros < 2**64:
            raise ValueError("micros must be a non-negative 64-bit number of microseconds")
        _check(
            _lib.pulsar_performer_report_pause_for(
                self._live(), micros, _text_arg(message, "message"), _text_arg(reason, "reason")
            )
        )

    @_serialized
    def report_early_termination(self, stand_on_subscription: bool = True) -> None:
        """Tells the daemon this worker ends early; with ``stand_on_subscription`` it gives back a permission
        held but not acted on."""
        _check(_lib.pulsar_performer_report_early_termination(self._live(), bool(stand_on_subscription)))

    @property
    def holds_permission(self) -> bool:
        """Whether a permission is held and its result not reported yet."""
        with self._lock:
            out = ctypes.c_bool()
            _check(_lib.pulsar_performer_holds_permission(self._live(), ctypes.byref(out)))
            return out.value

    async def wait_permission_async(self, executor=None) -> Pulse:
        """``wait_permission()`` for asyncio: the blocking wait runs in ``executor`` (the loop's default thread
        pool when None), so the event loop keeps running other coroutines meanwhile. Same result and errors.

        Cancellation: the awaiting task is cancelled at once, but the library call in the thread cannot be
        interrupted; it goes on until it returns (at most about ``admissionTimeout + pulseTimeout``). If it then
        obtains a permission nobody will receive, the permission is given back at once
        (``report_early_termination(True)``), so the daemon does not count a worker that never acts. Until the
        thread's call has returned the performer is busy: another call on it (from any thread) waits for it."""
        loop = asyncio.get_running_loop()
        guard = threading.Lock()
        state = {"cancelled": False, "delivered": False}

        def call() -> Optional[Pulse]:
            with self._lock:
                pulse = self.wait_permission()
                with guard:
                    if state["cancelled"]:
                        self._give_back()
                        return None
                    state["delivered"] = True
                return pulse

        try:
            return await loop.run_in_executor(executor, call)
        except asyncio.CancelledError:
            with guard:
                state["cancelled"] = True
                delivered = state["delivered"]
            if delivered:  # the wait succeeded just as the task was cancelled: the pulse is dropped here
                self._give_back()
            raise

    def _give_back(self) -> None:
        try:
            self.report_early_termination(True)
        except (PulsarError, ValueError):
            pass

    def close(self) -> None:
        """Frees the performer (a permission still held is given back). Idempotent."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            handle, self._handle = getattr(self, "_handle", None), None
            if handle:
                _lib.pulsar_performer_free(handle)

    def __enter__(self) -> "Performer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # at interpreter shutdown the library may already be unloaded
            pass


class Daemon:
    """A pulsar daemon inside this process. ``config`` has the keys of ``pulsard --config`` (e.g.
    ``subscribersPerIteration``, ``pulsationIterationPeriod``, ``pulsarSocketsParams``); its sockets are bound
    here, so address errors raise at once. ``run()`` blocks (call it from a thread, or use ``start()``);
    ``stop()``, ``stats()``, ``endpoints`` and ``performer_config()`` work from any thread meanwhile. ``close()``
    (or leaving a ``with`` block) stops it, waits for ``run()`` to return, and frees it."""

    def __init__(self, config: Union[None, Mapping[str, Any], str, bytes] = None):
        _ensure_logging()
        handle = _P(_Daemon)()
        _check(_lib.pulsar_daemon_new(_config_arg(config, "config"), ctypes.byref(handle)))
        self._handle = handle
        self._runs = 0
        self._idle = threading.Condition()
        self._thread: Optional[threading.Thread] = None
        self._thread_error: Optional[BaseException] = None

    def _live(self):
        if not self._handle:
            raise ValueError("this Daemon is closed")
        return self._handle

    def run(self) -> None:
        """Runs the daemon on this thread until ``stop()`` or ``timerIterationsLimit``. Once per daemon."""
        handle = self._live()
        self._enter_run()
        self._run_entered(handle)

    def _enter_run(self) -> None:
        # Counted before the library call, so that close() never frees a handle a run is about to use.
        with self._idle:
            self._runs += 1

    def _run_entered(self, handle) -> None:
        try:
            _check(_lib.pulsar_daemon_run(handle))
        finally:
            with self._idle:
                self._runs -= 1
                self._idle.notify_all()

    def start(self) -> threading.Thread:
        """Runs the daemon on a new (daemonic) thread; ``close()`` stops and joins it. Returns the thread."""
        handle = self._live()
        self._enter_run()

        def target() -> None:
            try:
                self._run_entered(handle)
            except BaseException as error:  # kept for close() to re-raise: a thread cannot raise to us
                self._thread_error = error

        self._thread = threading.Thread(target=target, name="pulsar-daemon", daemon=True)
        try:
            self._thread.start()
        except BaseException:
            with self._idle:
                self._runs -= 1
            raise
        return self._thread

    def stop(self) -> None:
        """Asks the daemon to stop; ``run()`` returns within about 100 ms. Any thread, any number of times."""
        _check(_lib.pulsar_daemon_stop(self._live()))

    def stats(self) -> DaemonStats:
        """The daemon's counters (from any thread)."""
        out = _CStats()
        _check(_lib.pulsar_daemon_stats(self._live(), ctypes.byref(out)))
        return DaemonStats(**{name: getattr(out, name) for name, _ in _CStats._fields_})

    @property
    def endpoints(self) -> Dict[str, str]:
        """The bound addresses by socket (``reply_stack``, ``publish``, ``pull``), real ports for ``*``."""
        result = {}
        for name, which in _ENDPOINTS.items():
            out = ctypes.c_char_p()
            _check(_lib.pulsar_daemon_endpoint(self._live(), which, ctypes.byref(out)))
            result[name] = (out.value or b"").decode("utf-8")
        return result

    def performer_config(self, **extra: Any) -> Dict[str, Any]:
        """A Performer configuration reaching this daemon, with ``extra`` settings (e.g. timeouts) added."""
        out = ctypes.c_char_p()
        _check(_lib.pulsar_daemon_performer_config(self._live(), ctypes.byref(out)))
        config = json.loads((out.value or b"{}").decode("utf-8"))
        config.update(extra)
        return config

    def close(self, timeout: float = 10.0) -> None:
        """Stops the daemon, waits up to ``timeout`` seconds for ``run()`` to return, and frees it. Re-raises
        an error of a ``start()`` thread. Idempotent."""
        handle = getattr(self, "_handle", None)
        if not handle:
            return
        _check(_lib.pulsar_daemon_stop(handle))
        with self._idle:
            if not self._idle.wait_for(lambda: self._runs == 0, timeout):
                raise TimeoutError(f"the daemon's run() did not return within {timeout} s of stop()")
        if self._thread is not None:
            self._thread.join(timeout)
        self._handle = None
        _lib.pulsar_daemon_free(handle)
        error, self._thread_error = self._thread_error, None
        if error is not None:
            raise error

    def __enter__(self) -> "Daemon":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        # Never free a daemon whose run() may still be using it: leak it instead.
        handle = getattr(self, "_handle", None)
        if handle and getattr(self, "_runs", 0) == 0:
            self._handle = None
            try:
                _lib.pulsar_daemon_free(handle)
            except Exception:  # at interpreter shutdown the library may already be unloaded
                pass
