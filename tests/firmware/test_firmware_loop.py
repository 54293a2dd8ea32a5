"""The event loop: device work off the loop, results as events, a watchdog, ticks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from capture.events import JobDone, Lane, Tick
from firmware.loop import EventLoop
from hal.exc import DeviceTimeout


class Recorder:
    def __init__(self) -> None:
        self.events: list[object] = []

    def __call__(self, event: object) -> None:
        self.events.append(event)

    def jobs(self) -> list[JobDone]:
        return [e for e in self.events if isinstance(e, JobDone)]


def _now() -> datetime:
    return datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def loop_and_events():
    recorder = Recorder()
    loop = EventLoop(recorder, now=_now, tick_seconds=3600)
    yield loop, recorder
    loop.close()


def _pump(loop: EventLoop, recorder: Recorder, count: int) -> None:
    for _ in range(200):
        if len(recorder.jobs()) >= count:
            return
        loop.step(timeout=0.05)
    raise AssertionError(f"expected {count} JobDone events, got {recorder.events}")


def test_job_result_comes_back_as_an_event_on_the_loop_thread(loop_and_events) -> None:
    loop, recorder = loop_and_events
    worker_threads: list[str] = []

    def work() -> int:
        worker_threads.append(threading.current_thread().name)
        return 42

    loop.run_job("face", work)
    _pump(loop, recorder, 1)
    (done,) = recorder.jobs()
    assert (done.name, done.result, done.error) == ("face", 42, None)
    assert worker_threads and worker_threads[0] != threading.current_thread().name


def test_job_failure_is_delivered_not_raised(loop_and_events) -> None:
    loop, recorder = loop_and_events
    failure = DeviceTimeout("no finger", device="fingerprint")

    def work() -> None:
        raise failure

    loop.run_job("finger", work)
    _pump(loop, recorder, 1)
    assert recorder.jobs()[0].error is failure


def test_jobs_run_one_at_a_time_in_order(loop_and_events) -> None:
    loop, recorder = loop_and_events
    for index in range(5):
        loop.run_job(f"job{index}", lambda index=index: index)
    _pump(loop, recorder, 5)
    assert [done.result for done in recorder.jobs()] == [0, 1, 2, 3, 4]


def test_a_print_runs_on_its_own_lane_beside_the_devices(loop_and_events) -> None:
    """A card printing (held here) does not hold up the next person's finger."""
    loop, recorder = loop_and_events
    printing = threading.Event()
    loop.run_job("print", lambda: printing.wait(timeout=5) and "card", lane=Lane.PRINTERS)
    loop.run_job("finger", lambda: "image")
    _pump(loop, recorder, 1)
    assert [(d.name, d.result) for d in recorder.jobs()] == [("finger", "image")]
    printing.set()
    _pump(loop, recorder, 2)
    assert [(d.name, d.result) for d in recorder.jobs()][1] == ("print", "card")


def test_a_hung_job_is_reported_by_the_watchdog_and_its_late_result_ignored() -> None:
    recorder = Recorder()
    loop = EventLoop(recorder, now=_now, tick_seconds=3600, watchdog_seconds=0.05)
    release = threading.Event()
    try:
        loop.run_job("print", lambda: release.wait(5) and "late")
        _pump(loop, recorder, 1)
        (done,) = recorder.jobs()
        assert isinstance(done.error, DeviceTimeout)
        assert "print did not finish" in str(done.error)
        release.set()
        loop.run_job("after", lambda: "next")
        _pump(loop, recorder, 2)
        assert [d.name for d in recorder.jobs()] == ["print", "after"]
    finally:
        release.set()
        loop.close()


def test_ticks_carry_the_kit_clock() -> None:
    recorder = Recorder()
    loop = EventLoop(recorder, now=_now, tick_seconds=0.0)
    try:
        assert loop.step(timeout=0.01)
        assert recorder.events == [Tick(_now())]
    finally:
        loop.close()


def test_busy_until_the_job_result_is_handled(loop_and_events) -> None:
    loop, recorder = loop_and_events
    gate = threading.Event()
    loop.run_job("slow", lambda: gate.wait(timeout=5))
    assert loop.busy()
    gate.set()
    _pump(loop, recorder, 1)
    assert not loop.busy()


def test_the_loop_is_handling_only_while_events_wait_not_while_a_lane_works(
    loop_and_events,
) -> None:
    """A print on its lane keeps the loop busy (a switch-off waits for it) but not at work:
    the next press is handled at once.  An event posted is being handled until it was."""
    loop, recorder = loop_and_events
    printing = threading.Event()
    loop.run_job("print", lambda: printing.wait(timeout=5), lane=Lane.PRINTERS)
    assert loop.busy() and not loop.handling()
    loop.post("press")
    assert loop.handling()
    assert loop.step(timeout=0.05) and recorder.events == ["press"]
    assert not loop.handling() and loop.busy()
    printing.set()
    _pump(loop, recorder, 1)
    assert not loop.busy() and not loop.handling()


def test_close_is_safe_twice(loop_and_events) -> None:
    loop, _ = loop_and_events
    loop.close()
    loop.close()
    assert loop.stop.is_set()
