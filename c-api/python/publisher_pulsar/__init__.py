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

The header is the single source of truth for status codes and the stats layout: the exception classes
(``PulsarTimeoutError``, ``PulsarInvalidJsonError``, ...) and the ``DaemonStats`` fields are built from it at
import time, so they cannot drift from the library.

Finding the library: ``PULSAR_LIB`` (a path to libpulsar.so), else the repository's cargo target directory
(``target/debug`` or ``target/release``, the newer one; ``CARGO_TARGET_DIR`` honoured), else pkg-config's
``pulsar`` libdir, else the system's library path. The header: ``PULSAR_HEADER``, else ``include/pulsar.h``
next to the library's prefix, else the repository's, else pkg-config's includedir.

Threads: a ``Performer`` belongs to one thread at a time (give each thread its own); ``Daemon.stop()``,
``stats()``, ``endpoints`` and ``performer_config()`` may be called from any thread while ``run()`` blocks in
another. Library calls release the GIL.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
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
    "library_path",
    "header_path",
    "version",
]

_REPO = Path(__file__).resolve().parents[3]


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
    env = os.environ.get("PULSAR_LIB")
    if env:
        path = Path(env)
        if not path.is_file():
            raise ImportError(f"PULSAR_LIB={env} is not a file")
        return path
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
        "libpulsar not found: set PULSAR_LIB, build it (cargo build -p pulsar-capi) or install it "
        "(make -C c-api install)"
    )


def _find_header(library: Path) -> Path:
    candidates = []
    env = os.environ.get("PULSAR_HEADER")
    if env:
        candidates.append(Path(env))
    candidates.append(library.resolve().parent.parent / "include" / "pulsar.h")
    candidates.append(_REPO / "include" / "pulsar.h")
    includedir = _pkg_config_variable("includedir")
    if includedir:
        candidates.append(Path(includedir) / "pulsar.h")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ImportError("pulsar.h not found: set PULSAR_HEADER or install libpulsar (make -C c-api install)")


library_path: Path = _find_library()
header_path: Path = _find_header(library_path)
_HEADER = header_path.read_text(encoding="utf-8")

#: Status name (without the ``PULSAR_STATUS_`` prefix) -> number, as declared in the header.
STATUS: Dict[str, int] = {
    name: int(number) for name, number in re.findall(r"^\s*PULSAR_STATUS_([A-Z0-9_]+)\s*=\s*(\d+),", _HEADER, re.M)
}
if STATUS.get("OK") != 0 or len(STATUS) < 2:
    raise ImportError(f"{header_path} does not declare the PULSAR_STATUS_* constants")
_ENDPOINTS: Dict[str, int] = {
    name.lower(): int(number)
    for name, number in re.findall(r"^\s*PULSAR_ENDPOINT_([A-Z0-9_]+)\s*=\s*(\d+),", _HEADER, re.M)
}


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


def _stats_fields() -> list:
    match = re.search(r"typedef struct PulsarDaemonStats \{(.*?)\} PulsarDaemonStats;", _HEADER, re.S)
    if not match:
        raise ImportError(f"{header_path} does not declare PulsarDaemonStats")
    body = re.sub(r"/\*.*?\*/", "", match.group(1), flags=re.S)
    fields = re.findall(r"(\w+)\s+(\w+);", body)
    unknown = [c for c, _ in fields if c not in _C_TYPES]
    if unknown:
        raise ImportError(f"PulsarDaemonStats has field types this module cannot map: {unknown}")
    return [(name, _C_TYPES[c]) for c, name in fields]


class _CStats(ctypes.Structure):
    _fields_ = _stats_fields()


#: A daemon's counters (the fields of the header's PulsarDaemonStats: n, pause_us, pulses, grants, errors, ...).
DaemonStats = make_dataclass("DaemonStats", [name for name, _ in _CStats._fields_], frozen=True)
DaemonStats.__module__ = __name__
DaemonStats.__doc__ = "A daemon's counters, as libpulsar's PulsarDaemonStats (see include/pulsar.h)."


class _Performer(ctypes.Structure):
    pass


class _Pulse(ctypes.Structure):
    pass


class _Daemon(ctypes.Structure):
    pass


_lib = ctypes.CDLL(str(library_path))
_status = ctypes.c_uint32
_P = ctypes.POINTER


def _declare(name: str, restype, *argtypes) -> None:
    function = getattr(_lib, name)
    function.restype = restype
    function.argtypes = list(argtypes)


_declare("pulsar_version", ctypes.c_char_p)
_declare("pulsar_last_error_code", _status)
_declare("pulsar_last_error_message", ctypes.c_char_p)
_declare("pulsar_log_to_stderr", _status, ctypes.c_char_p)
_declare("pulsar_performer_new", _status, ctypes.c_char_p, _P(_P(_Performer)))
_declare("pulsar_performer_free", None, _P(_Performer))
_declare("pulsar_performer_wait_permission", _status, _P(_Performer), _P(_P(_Pulse)))
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
    """Raises the exception for a failed call, with the calling thread's last-error message."""
    if status == 0:
        return
    raw = _lib.pulsar_last_error_message()
    message = raw.decode("utf-8", "replace") if raw else ""
    raise EXCEPTIONS.get(status, PulsarError)(message, status)


def version() -> str:
    """libpulsar's version, e.g. ``"0.1.0"``."""
    return _lib.pulsar_version().decode()


def log_to_stderr(filter: Optional[str] = None) -> None:
    """Sends the library's log lines to standard error (once per process); ``filter`` like ``"debug"``."""
    _check(_lib.pulsar_log_to_stderr(None if filter is None else _text_arg(filter, "filter")))


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
        handle = _P(_Performer)()
        _check(_lib.pulsar_performer_new(_config_arg(config, "config"), ctypes.byref(handle)))
        self._handle = handle

    def _live(self):
        if not self._handle:
            raise ValueError("this Performer is closed")
        return self._handle

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

    def report_success(self) -> None:
        """Reports a successful action. Raises ``PulsarOutOfOrderError`` without a permission held."""
        _check(_lib.pulsar_performer_report_success(self._live()))

    def report_slow_down(self, message: Union[str, bytes], reason: Union[str, bytes] = "") -> None:
        """Reports a rate-limit error: the daemon releases one worker fewer per pulse (or pauses longer).
        ``message`` must not be empty."""
        _check(
            _lib.pulsar_performer_report_slow_down(
                self._live(), _text_arg(message, "message"), _text_arg(reason, "reason")
            )
        )

    def report_pause_for(self, micros: int, message: Union[str, bytes], reason: Union[str, bytes] = "") -> None:
        """Reports an error asking the daemon to stop pulsing for ``micros`` microseconds (e.g. a daily quota)."""
        if not 0 <= micros < 2**64:
            raise ValueError("micros must be a non-negative 64-bit number of microseconds")
        _check(
            _lib.pulsar_performer_report_pause_for(
                self._live(), micros, _text_arg(message, "message"), _text_arg(reason, "reason")
            )
        )

    def report_early_termination(self, stand_on_subscription: bool = True) -> None:
        """Tells the daemon this worker ends early; with ``stand_on_subscription`` it gives back a permission
        held but not acted on."""
        _check(_lib.pulsar_performer_report_early_termination(self._live(), bool(stand_on_subscription)))

    @property
    def holds_permission(self) -> bool:
        """Whether a permission is held and its result not reported yet."""
        out = ctypes.c_bool()
        _check(_lib.pulsar_performer_holds_permission(self._live(), ctypes.byref(out)))
        return out.value

    def close(self) -> None:
        """Frees the performer (a permission still held is given back). Idempotent."""
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
