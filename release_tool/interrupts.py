"""Signals during a run: SIGTERM read as an interrupt, and interrupts held while a rollback runs.

A run stopped by Ctrl-C (SIGINT) or by SIGTERM (a CI runner cancelling the job) takes the path
a failed action takes: the action under way is asked what it did (did the push land?), then
local changes are rolled back before the point of no return, or kept after it. While that
runs, one more interrupt is held until it is done; another aborts it, and the release lock
with its journal stays, so that the next run's `recover` step finishes the job.

Signal handlers can only be set from the main thread; elsewhere (a test runner's worker
thread) these context managers change nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: handled as an interrupt, where the run is."""


class RollbackAborted(KeyboardInterrupt):
    """A second interrupt while a rollback (or the remote check before it) was running."""


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises `Terminated` (a KeyboardInterrupt) where the run is."""
    if not _main_thread():
        yield
        return

    def terminated(signum: int, frame: FrameType | None) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class Held:
    """How many interrupts arrived while held."""

    count: int = 0


@contextmanager
def held_interrupts() -> Iterator[Held]:
    """Within the block, the first SIGINT/SIGTERM is only counted; the second raises
    `RollbackAborted`. The previous handlers come back at the end."""
    held = Held()
    if not _main_thread():
        yield held
        return

    def hold(signum: int, frame: FrameType | None) -> None:
        held.count += 1
        if held.count >= 2:
            raise RollbackAborted()

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield held
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
