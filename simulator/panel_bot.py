"""The demo's officer at the panel's GPIO pins, while the kit's program runs on its own.

The demo bot (`simulator.demo.OfficerBot`) steps the kit's event loop itself; on the Pi
program's path (`firmware.pi.run_pi`) the loop runs on the kit's own thread, so this bot
only presses the mock pins and watches the screen, as an officer's hands and eyes do.
"""

from __future__ import annotations

import time

from capture.events import Job, JobKind
from firmware.host import KitHost
from hal.panel import PanelPins
from hal.types import Button, FingerPosition, Press
from hw_sim.wired import WiredKit
from hw_sim.world import World
from simulator.demo import DemoError, OfficerBot
from simulator.kit import Bystanders


class PanelBot(OfficerBot):
    """The demo's officer, pressing the panel's GPIO pins while the kit runs on its own.

    The buttons it chooses are the demo bot's, through the same kit driver and screen
    model; only how a press reaches the kit differs.  The people in front
    (`simulator.kit.Bystanders`, followed by the world) put a finger on the sensor's glass
    or sign the pad when the screen says the kit waits for one, at the emulators' side.
    """

    def __init__(self, host: KitHost, world: World, wired: WiredKit) -> None:
        assert host.kit is not None
        bystanders = Bystanders(world, host.kit.controller)
        world.follow(bystanders)
        super().__init__(host.kit, world, bystanders)
        self.wired = wired
        self.pins = wired.panel_driver(PanelPins())
        self._served: tuple[Job | None, FingerPosition | None] | None = None

    def _step_up(self) -> None:
        """Whoever stands in front gives the finger or signature the kit waits for; the
        finger the screen names as soon as it names it (the kit asks for the next one
        while the last one's image crosses the wire)."""
        screen = self.screen
        job = screen.job
        asked = (job, screen.finger)
        if job is None or asked == self._served or self.bystanders() is None:
            return
        if job.kind in (JobKind.FINGER, JobKind.FINGER_UPLOAD):
            if screen.finger is not None:
                self.wired.present_finger(screen.finger)
        elif job.kind is JobKind.IDENTIFY:
            self.wired.present_finger(None)
        elif job.kind is JobKind.SIGNATURE:
            self.wired.present_signature()
        self._served = asked

    def settle(self, *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        quiet = 0
        while quiet < 3:  # idle for three looks in a row: the press and its work are done
            self._step_up()
            busy = self.kit.loop.busy() or self.screen.job is not None
            quiet = 0 if busy else quiet + 1
            if time.monotonic() > deadline:
                raise DemoError(f"the kit stayed busy: {self.screen}")
            time.sleep(0.02)

    def press(self, button: Button, press: Press = Press.SHORT) -> None:
        self.pins.press(button, hold_seconds=1.5 if press is Press.HOLD else 0.0)
        self.settle()
