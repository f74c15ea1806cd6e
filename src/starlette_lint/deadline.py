"""A time budget per file: the backstop for an analysis that would never end.

Every loop of the engine is bounded (name lookups, call graphs, route trees:
``tests/test_termination.py``), but one input that a bound missed must not
hang a pre-commit hook or a CI job. So each file's analysis runs under a
deadline (``file-timeout``, 10 s by default): past it, the thread doing the
analysis is interrupted where it stands, the file gets one ``STL000`` finding
that names the budget, and the run goes on with the next file.

How it stops the work: one watchdog thread per process sleeps until the
earliest armed deadline, then raises :class:`FileTimeout` *in the analysing
thread* (CPython's ``PyThreadState_SetAsyncExc``). Nothing is left running:
the exception unwinds the analysis itself, on whatever thread it runs (the
caller's, or the large-stack thread of :mod:`.stack`). It is delivered between
two Python bytecodes, so Python code (the model, the rules, positions, fixers)
is always stoppable; a single long call into C (LibCST's native parser) ends
first, and :mod:`.guard` refuses, before parsing, the inputs it is slow on.
Where the interpreter has no such call (not CPython), the engine still checks
the clock between rules (:func:`check`).

:class:`FileTimeout` derives from ``BaseException`` so that the engine's
``except Exception`` guards (one failing rule must not hide the others) do not
swallow it. A deadline armed while another is armed on the same thread is a
no-op: the outer one governs (the command's per-file budget covers its fix
rounds; the engine's covers a check).
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from typing import Any, Callable, Optional, TypeVar

__all__ = ["DEFAULT_SECONDS", "TIMEOUT_PREFIX", "FileTimeout", "check", "expired", "interruptible", "stand_down",
           "timeout_message", "within"]

T = TypeVar("T")

DEFAULT_SECONDS = 10.0


class FileTimeout(BaseException):
    """The analysis of one file ran past its time budget."""


TIMEOUT_PREFIX = "analysis stopped after the file-timeout of "


def timeout_message(seconds: float) -> str:
    """The ``STL000`` message: the fact, then what to do (it starts with :data:`TIMEOUT_PREFIX`)."""
    return (f"{TIMEOUT_PREFIX}{seconds:g} s; file not fully checked: "
            f"raise file-timeout in [tool.starlette-lint] (or --file-timeout) and report the file as a bug")


def _async_exc() -> tuple[Optional[Callable[..., int]], Optional[Callable[..., int]]]:
    """``PyThreadState_SetAsyncExc`` twice: to raise an exception class, and to take it back (NULL)."""
    try:
        api = ctypes.pythonapi
        name = "PyThreadState_SetAsyncExc"
        raise_in = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)((name, api))
        take_back = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)((name, api))
    except (AttributeError, OSError, TypeError):  # not CPython
        return None, None
    return raise_in, take_back


_RAISE_IN, _TAKE_BACK = _async_exc()


def interruptible() -> bool:
    """Can a deadline stop Python code in the middle of a rule (not only between rules)?"""
    return _RAISE_IN is not None


REFIRE = 0.25  # seconds between two raises while a fired deadline is not stood down


class _Armed:
    __slots__ = ("at", "seconds", "thread", "fired", "done", "raising")

    def __init__(self, seconds: float, thread: int) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.thread = thread
        self.fired = False  # the budget ran out (the exception was raised, or check() raised it)
        self.done = False  # stood down or disarmed: nothing is raised any more
        self.raising = False  # the watchdog is about to raise in the thread (see _Watchdog.stand_down)


class _Watchdog:
    """One daemon thread per process; it fires the deadlines that run out."""

    def __init__(self) -> None:
        self._reset()
        if hasattr(os, "register_at_fork"):  # a child must not inherit a lock held by the parent's thread
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.armed: dict[int, _Armed] = {}  # thread id -> its deadline
        self.pid = os.getpid()  # the process the thread was started in
        self.thread: Optional[threading.Thread] = None
        # when the thread wakes next (None: idle until notified). A new deadline later than that
        # needs no wake-up call: the thread finds it then, so checking file after file costs one
        # lock and no thread switch (the thread wakes about once a budget)
        self.wake_at: Optional[float] = None

    def arm(self, seconds: float) -> _Armed:
        """A deadline for the calling thread, registered as its current one before it can fire."""
        entry = _Armed(seconds, threading.get_ident())
        _local.entry = entry
        if _RAISE_IN is None:
            return entry  # nothing can interrupt the thread: check() compares the clock
        # Taking the lock here is safe: nothing can be raised in this thread until the new
        # entry is registered, and the watchdog needs this lock to register-and-fire.
        with self.cond:
            if self.pid != os.getpid() or self.thread is None or not self.thread.is_alive():
                self.pid = os.getpid()
                self.armed.clear()
                self.wake_at = None
                self.thread = threading.Thread(target=self._loop, name="starlette-lint-watchdog", daemon=True)
                self.thread.start()
            self.armed[entry.thread] = entry
            if self.wake_at is None or entry.at < self.wake_at:
                self.cond.notify()
        return entry

    def stand_down(self, entry: _Armed) -> None:
        """Raise nothing more for this deadline, and take back what is raised but not yet delivered.

        Called by the thread the deadline is for, so it must not take the watchdog's lock: an
        exception delivered right after the lock is acquired, before the ``with`` block is
        entered, would leave the lock held for ever. Instead the two threads raise flags in
        opposite order (``done`` here, ``raising`` in :meth:`_loop`): either the watchdog sees
        ``done`` and raises nothing, or this thread sees ``raising``, waits for the raise to
        happen and takes it back. The watchdog drops done entries itself. May be interrupted by
        a late exception and called again: every step can be repeated.
        """
        entry.done = True
        while entry.raising:
            time.sleep(0)
        if entry.fired and _TAKE_BACK is not None:
            _TAKE_BACK(entry.thread, None)

    def _loop(self) -> None:
        with self.cond:
            while True:
                now = time.monotonic()
                for entry in [e for e in self.armed.values() if e.done or e.at <= now]:
                    if entry.done:  # stood down by its thread
                        del self.armed[entry.thread]
                        continue
                    # raised again every REFIRE seconds until the thread stands the deadline down:
                    # an exception can be lost (raised in a __del__, swallowed by third-party code)
                    entry.raising = True
                    if not entry.done:
                        entry.fired = True
                        entry.at = now + REFIRE
                        if _RAISE_IN is not None:  # always: without it no deadline reaches the watchdog
                            _RAISE_IN(entry.thread, FileTimeout)
                    entry.raising = False
                self.wake_at = min((e.at for e in self.armed.values()), default=None)
                wait = None if self.wake_at is None else min(max(self.wake_at - now, 0.001), threading.TIMEOUT_MAX)
                self.cond.wait(wait)


_WATCHDOG = _Watchdog()
_local = threading.local()


def within(seconds: Optional[float], fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)``, with :class:`FileTimeout` raised in this thread once ``seconds`` have passed.

    ``None`` or a value <= 0 means no budget. Nested on one thread, the outermost governs.
    The exception leaves as :class:`FileTimeout` whichever statement it hit, and is never
    delivered after the call returns. Code that catches it inside ``fn`` and carries on
    calls :func:`stand_down` first.

    A function rather than a context manager on purpose: an exception raised in the thread
    can land on any Python call, and a ``with`` statement runs Python code of its own
    (``__enter__``, ``__exit__``) where a landing would skip the stand-down and leave the
    watchdog raising. Here every step after arming sits inside the ``try``, and the release
    is retried until it completes.
    """
    if not seconds or seconds <= 0 or getattr(_local, "entry", None) is not None:
        return fn(*args, **kwargs)
    try:
        _WATCHDOG.arm(seconds)
        return fn(*args, **kwargs)
    finally:
        while True:  # a late raise may land on any call in here: it is dropped (the call has
            try:     # ended, or is already leaving with FileTimeout) and the release retried
                _release()
                break
            except FileTimeout:
                continue


def _release() -> None:
    entry = getattr(_local, "entry", None)
    if entry is not None:
        _WATCHDOG.stand_down(entry)
        _local.entry = None


def stand_down() -> None:
    """After catching :class:`FileTimeout` inside a :func:`within` call: raise nothing more.

    The block's budget is spent; what follows (positions of the findings already made, the
    report) runs to its end. A no-op outside a deadline.
    """
    entry = getattr(_local, "entry", None)
    if entry is None:
        return
    while True:  # every step can be repeated: a late raise landing here is dropped
        try:
            _WATCHDOG.stand_down(entry)
            return
        except FileTimeout:
            continue


def expired() -> bool:
    """Has this thread's deadline passed?"""
    entry = getattr(_local, "entry", None)
    return entry is not None and (entry.fired or time.monotonic() >= entry.at)


def check() -> None:
    """Raise :class:`FileTimeout` now if this thread's deadline has passed (a cooperative check).

    Where the watchdog can interrupt the thread and has fired, its exception is on its way
    (it arrives within a few bytecodes, and again every REFIRE seconds until stood down).
    """
    entry = getattr(_local, "entry", None)
    if entry is None or entry.done or time.monotonic() < entry.at:
        return
    if entry.fired and _RAISE_IN is not None:
        return
    entry.fired = True
    raise FileTimeout
