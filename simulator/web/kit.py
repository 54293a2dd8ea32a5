"""``jemput-kit sim web``: the wired simulated kit behind the browser page.

The kit's event loop runs on its own thread, as in the terminal; a ticker keeps the
printers' trays and a training scenario up to date; uvicorn serves the page on
127.0.0.1.  Closing stops all three, then the kit.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from simulator.kit import SimKit, open_sim_kit
from simulator.options import Provisioning, SimOptions
from simulator.web.app import Pages, Server, build_app, scaled_display
from simulator.web.controls import Controls
from simulator.web.events import EventLog
from simulator.web.scenario import Progress, load_scenario
from simulator.web.texts import Note
from simulator.web.view import controls_catalogue, residents, snapshot

#: Default port of the browser kit (0 picks any free port).
DEFAULT_PORT = 8321
#: How often the ticker collects printed output and advances the scenario, in seconds.
TICK_SECONDS = 0.1
#: Bounded waits when stopping the threads.
JOIN_SECONDS = 5.0


class WebKit:
    """The browser kit over a running ``sim``; :meth:`start`, then :meth:`close`."""

    def __init__(
        self, sim: SimKit, *, port: int = DEFAULT_PORT, scenario: str | None = None
    ) -> None:
        if sim.wired is None:
            raise ValueError("the browser kit needs the wired simulator")
        self.sim = sim
        self._wired = sim.wired
        self.log = EventLog()
        assert sim.tray is not None  # a wired simulated kit always keeps its printed output
        self.tray = sim.tray
        self.controls = Controls(sim, self.log)
        self.progress = Progress(load_scenario(scenario, sim.world)) if scenario else None
        #: A training kit: the page shows its banner, with or without a scenario.
        self._training = sim.kit.store.training
        self._stop = threading.Event()
        catalogue = {**controls_catalogue(), "residents": residents(sim)}
        pages = Pages(
            snapshot=self.snapshot,
            controls=self.controls,
            display_png=lambda: scaled_display(self._wired.display.to_png()),
            camera_jpeg=lambda: self._wired.camera.last_frame,
            printed_path=lambda name: item.path if (item := self.tray.find(name)) else None,
            catalogue=catalogue,
            stopping=self._stop,
        )
        self.server = Server(build_app(pages), port=port)
        self._threads = [
            threading.Thread(target=self._run_loop, name="kit-loop", daemon=True),
            threading.Thread(target=self._tick, name="web-kit-ticker", daemon=True),
        ]

    @property
    def url(self) -> str:
        return self.server.url

    def snapshot(self) -> dict[str, Any]:
        training = (
            {"scenario": self.progress.view() if self.progress else None}
            if self._training
            else None
        )
        return snapshot(
            self.sim,
            indicator=self.controls.indicator(),
            tray=self.tray,
            log=self.log,
            training=training,
        )

    def _run_loop(self) -> None:
        self.sim.kit.start()
        self.sim.kit.loop.run(until=self._stop.is_set)

    def _tick(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            for item in self.tray.collect():
                self.log.note(Note(f"printed.{item.kind.value}", name=item.name))
            if self.progress is not None:
                for note in self.progress.tick(
                    now=time.monotonic(), controller=self.sim.kit.controller, wired=self._wired
                ):
                    self.log.note(note)

    def start(self) -> None:
        self.log.attach()
        for thread in self._threads:
            thread.start()
        self.server.start()

    def close(self) -> None:
        """Stop the page, the ticker and the loop; safe twice."""
        self._stop.set()
        self.sim.kit.loop.stop.set()
        self.server.close()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=JOIN_SECONDS)
        self.tray.collect()
        self.log.detach()


@contextlib.contextmanager
def open_web_kit(
    options: SimOptions, *, port: int = DEFAULT_PORT, scenario: str | None = None
) -> Iterator[WebKit]:
    """A simulated kit on ``options.data_dir`` served as a page, with its power
    co-processor; the kit boots on its loop's thread.

    A ``scenario`` runs on a training kit only (a fresh folder becomes one): what it seals
    is practice, refused by collectors and the district.
    """
    web_options = replace(
        options,
        booted=False,
        provisioning=Provisioning.DEMO if scenario is None else Provisioning.TRAINING,
        parts=replace(options.parts, coprocessor=True),
    )
    with open_sim_kit(web_options) as sim:
        sim.bystanders.offer_finger = False  # a laptop has no finger: officers key their PIN
        web = WebKit(sim, port=port, scenario=scenario)
        try:
            web.start()
            yield web
        finally:
            web.close()


def run_web(
    options: SimOptions,
    *,
    port: int = DEFAULT_PORT,
    scenario: str | None = None,
    echo: Callable[[str], None] = print,
) -> None:
    """Serve the browser kit until Ctrl-C (or SIGTERM) and say where to open it; the
    devices wait as long as on a kit, for a person at the page."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C sets ``stop`` as SIGTERM does: Python raises KeyboardInterrupt only when it
        # found SIGINT handled at its start, and a program started with SIGINT ignored (a
        # shell's background job, a runner) inherits that, so Ctrl-C would do nothing
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    at_the_page = replace(options, parts=replace(options.parts, time_scale=1.0))
    with open_web_kit(at_the_page, port=port, scenario=scenario) as web:
        echo(f"jemput-kit: the simulated kit is at {web.url} (Ctrl-C stops it)")
        echo(f"printed cards and slips are kept in {web.tray.folder}")
        while not stop.wait(0.5):
            pass
