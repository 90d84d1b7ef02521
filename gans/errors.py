"""The errors that end a command cleanly, and the guard that makes Ctrl-C and SIGTERM do so.

A wrong argument, a missing or damaged file, a run folder that cannot be written: each is
raised as a UserError (or a subclass) whose message says what is wrong and what to do. The
command line (gans/cli.py) prints such an error as one line and exits with status 2; any
other exception is a bug, and keeps its traceback.

Subclasses elsewhere also derive from the built-in error they replace (an MNIST file that
fails its checksum is still a ValueError), so that code catching those keeps working.

Stopping: Ctrl-C (SIGINT) and SIGTERM (`kill`, `timeout`, a batch scheduler) both ask the
program to stop. Inside `stop_signals_deferred()` they only set a flag, and the loop that
asked stops at its next safe point (the Trainer: after the step, with a checkpoint saved;
the CelebA build: between two images). Elsewhere Ctrl-C raises KeyboardInterrupt and, in
the command line, SIGTERM raises Terminated, so that `with` blocks (the run folder's lock)
are still left properly. The exit status is 128 + the signal's number: 130 or 143.
"""

import signal
import threading
from contextlib import contextmanager


class UserError(Exception):
    """A problem the user can fix (bad argument, missing or damaged file, unwritable folder)."""


class TrainingDiverged(Exception):
    """The losses or weights stopped being finite numbers; training stopped (exit status 1).

    Not a UserError: nothing the user typed was wrong, but the run cannot go on.
    """


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program happens to be, as Python raises KeyboardInterrupt for Ctrl-C.

    A KeyboardInterrupt, so that the clean-ups written for Ctrl-C (removing a half-written file,
    releasing a lock) run for it too, and `except Exception` does not swallow it."""
    signal_number = signal.SIGTERM


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during training, after the Trainer saved a checkpoint; the message says where.

    signal_number: signal.SIGINT (Ctrl-C) or signal.SIGTERM; the exit status is 128 + it."""

    def __init__(self, message, signal_number=signal.SIGINT):
        super().__init__(message)
        self.signal_number = signal_number


def raise_terminated(signum, frame):
    """A SIGTERM handler: raise Terminated where the program is (see `sigterm_raises`)."""
    raise Terminated(f"terminated by signal {signal.Signals(signum).name}")


@contextmanager
def sigterm_raises():
    """Within the block, SIGTERM raises Terminated instead of ending the process on the spot.

    Only where SIGTERM would end the process anyway (its default handling), and only in the main
    thread (signal.signal refuses elsewhere); a caller's own handler is left alone."""
    ours = _in_main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    if ours:
        signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        if ours:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def stop_signals_deferred():
    """Yields requested(): None, or the signal (SIGINT: Ctrl-C; SIGTERM) that asked to stop since
    the block began. The caller stops at its next safe point, then calls `stop_if_requested(requested)`
    or raises its own TrainingInterrupted.

    Why: Python raises KeyboardInterrupt wherever the main thread happens to be: between G's
    update and D's, inside a checkpoint write, or inside one of h5py's weakref callbacks, where
    Python prints the exception and drops it ("Exception ignored in ..."). And SIGTERM, by
    default, ends the process at once: no checkpoint, and the run folder's lock left behind.

    Each signal is taken over only where it would otherwise interrupt or end the program (its
    handler is Python's default, or sigterm_raises's), never where the caller ignores it or
    handles it in their own way, and only in the main thread. The handlers are put back at the end.
    """
    requested = []
    takeover = {signal.SIGINT: (signal.default_int_handler,), signal.SIGTERM: (signal.SIG_DFL, raise_terminated)}
    previous = {}
    if _in_main_thread():
        for number, defaults in takeover.items():
            handler = signal.getsignal(number)
            if any(handler == default for default in defaults):
                previous[number] = handler
                signal.signal(number, lambda signum, frame: requested.append(signum))
    try:
        yield lambda: signal.Signals(requested[0]) if requested else None
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def stop(signal_number):
    """Raise what the signal would have raised outside stop_signals_deferred: KeyboardInterrupt for
    SIGINT, Terminated for SIGTERM."""
    if signal_number == signal.SIGTERM:
        raise Terminated("terminated by signal SIGTERM")
    raise KeyboardInterrupt


def stop_if_requested(requested):
    """At a safe point inside stop_signals_deferred: raise what the signal that asked to stop would
    have raised (see `stop`), if one did; `requested` is what the block yielded."""
    signal_number = requested()
    if signal_number is not None:
        stop(signal_number)


def exit_status(interruption):
    """130 for Ctrl-C, 143 for SIGTERM: the shell's 128 + the signal's number."""
    return 128 + int(getattr(interruption, "signal_number", signal.SIGINT))


def _in_main_thread():
    return threading.current_thread() is threading.main_thread()
