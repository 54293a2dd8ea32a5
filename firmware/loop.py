"""The kit's one event loop: a queue, a device worker, and a ticking clock.

Everything the capture machine reacts to arrives on one queue: button presses (posted from
gpiozero's or the keyboard's thread), results of device work, and ticks.  Device work runs
on one worker thread per lane (`capture.events.Lane`): the jobs of a lane run one at a time,
in order, because a part is used by one job at a time; the printers have a lane of their
own, so a card prints while the next person is captured.  The loop itself never blocks on
a device, so Cancel always works and the display never freezes.

Each job also has a watchdog: if a driver somehow outlives its own timeouts, the loop
reports the job as timed out and ignores its late result, rather than waiting forever.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from capture.events import JobDone, Lane, Tick
from hal.exc import DeviceTimeout

log = logging.getLogger(__name__)

#: Longest any device job may run before the loop gives up on it.  Device calls carry
#: their own, shorter timeouts; this only catches a driver that forgot one.
JOB_WATCHDOG_SECONDS = 120.0

#: How often the machine gets a Tick (idle lock, battery checks, clock on screen).
TICK_SECONDS = 1.0

#: How long close() waits for a running device job before leaving it to die with the process.
CLOSE_JOIN_SECONDS = 5.0


class EventLoop:
    """Feeds events to ``handle`` one at a time, on the thread that calls :meth:`run`."""

    def __init__(
        self,
        handle: Callable[[object], None],
        *,
        now: Callable[[], datetime],
        tick_seconds: float = TICK_SECONDS,
        watchdog_seconds: float = JOB_WATCHDOG_SECONDS,
    ) -> None:
        self._handle = handle
        self._now = now
        self._tick_seconds = tick_seconds
        self._watchdog_seconds = watchdog_seconds
        self._events: queue.Queue[object] = queue.Queue()
        self._lanes: dict[Lane, _Worker] = {}
        self._jobs: dict[int, tuple[object, float]] = {}
        self._jobs_lock = threading.Lock()
        self._next_job = 0
        self._last_tick = time.monotonic()
        self._handling = False
        #: Events posted and not yet handled to the end (the queue alone forgets an event
        #: the moment it is taken, before it is handled).
        self._unhandled = 0
        self.stop = threading.Event()

    def post(self, event: object) -> None:
        """Queue an event; safe from any thread."""
        with self._jobs_lock:
            self._unhandled += 1
        self._events.put(event)

    def run_job(self, name: object, work: Callable[[], Any], *, lane: Lane = Lane.DEVICES) -> None:
        """Run ``work`` off the loop, after the jobs given to ``lane`` before it; its
        outcome comes back as ``JobDone(name, ...)``."""
        with self._jobs_lock:
            if self.stop.is_set():
                return  # closed: no worker is started again to outlive the loop
            job_id = self._next_job
            self._next_job += 1
            self._jobs[job_id] = (name, time.monotonic() + self._watchdog_seconds)
            worker = self._lanes.get(lane)
            if worker is None:
                worker = self._lanes[lane] = _Worker(lane, self._finished)
        worker.work.put((job_id, work))

    def _finished(self, job_id: int, result: object, error: Exception | None) -> None:
        with self._jobs_lock:
            entry = self._jobs.pop(job_id, None)
        if entry is not None:  # else the watchdog already reported this job
            self.post(JobDone(entry[0], result, error))

    def busy(self) -> bool:
        """True while an event is handled, events wait or device work runs.

        Scripted sessions wait on this, and the host's safe point needs it false.
        """
        with self._jobs_lock:
            return self._handling or bool(self._jobs) or self._unhandled > 0

    def handling(self) -> bool:
        """True while an event is handled or events wait: the loop itself is at work.

        Unlike :meth:`busy`, the lanes' jobs do not count: a card printing behind the
        machine keeps the loop free for the next person's buttons (the browser kit's page
        shows the two apart)."""
        with self._jobs_lock:
            return self._handling or self._unhandled > 0

    def queued(self) -> bool:
        """True while events wait to be handled (a press not yet seen by the machine)."""
        return not self._events.empty()

    def _check_watchdog(self) -> None:
        now = time.monotonic()
        with self._jobs_lock:
            expired = [job for job, (_, deadline) in self._jobs.items() if deadline < now]
            names = [self._jobs.pop(job)[0] for job in expired]
        for name in names:
            log.error("device job %s outlived its %ss watchdog", name, self._watchdog_seconds)
            error = DeviceTimeout(
                f"{name} did not finish within {self._watchdog_seconds:.0f} s: the device "
                "hangs; restart the kit and run selftest",
                device=str(name),
            )
            self.post(JobDone(name, None, error))

    def step(self, timeout: float) -> bool:
        """Handle at most one event (or a due tick); False when nothing came in ``timeout``."""
        self._check_watchdog()
        if time.monotonic() - self._last_tick >= self._tick_seconds:
            self._last_tick = time.monotonic()
            self._dispatch(Tick(self._now()))
            return True
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            return False
        try:
            self._dispatch(event)
        finally:
            with self._jobs_lock:
                self._unhandled -= 1
        return True

    def _dispatch(self, event: object) -> None:
        self._handling = True
        try:
            self._handle(event)
        finally:
            self._handling = False

    def run(self, *, until: Callable[[], bool] | None = None) -> None:
        """Handle events until :attr:`stop` is set or ``until()`` becomes true."""
        while not self.stop.is_set() and not (until and until()):
            self.step(timeout=min(self._tick_seconds, 0.1))

    def close(self) -> None:
        """Stop, and give the running device jobs a bounded time to finish; safe twice."""
        self.stop.set()
        with self._jobs_lock:
            workers = list(self._lanes.values())
        for worker in workers:
            worker.work.put(None)
        deadline = time.monotonic() + CLOSE_JOIN_SECONDS
        for worker in workers:
            worker.thread.join(timeout=max(0.0, deadline - time.monotonic()))


class _Worker:
    """One lane's thread: runs its jobs in order and hands each outcome to ``finished``."""

    def __init__(
        self, lane: Lane, finished: Callable[[int, object, Exception | None], None]
    ) -> None:
        self.work: queue.Queue[tuple[int, Callable[[], Any]] | None] = queue.Queue()
        self._finished = finished
        self.thread = threading.Thread(target=self._run, name=f"{lane.value}-job", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.work.get()) is not None:
            job_id, work = item
            try:
                result, error = work(), None
            except Exception as exc:  # any failure is the job's outcome, reported as data
                result, error = None, exc
            self._finished(job_id, result, error)
