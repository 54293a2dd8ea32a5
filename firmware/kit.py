"""One running kit: devices, store, capture controller and event loop, wired together.

The same wiring serves the Pi, the terminal simulator and the scripted demo, always through
`firmware.host.KitHost`; only the devices and the clock differ.  Button presses from the
panel's thread reach the controller as events on the loop's one queue.  The kit does not
own its devices: a reflash closes one kit and opens the next on the same devices.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import TypeAlias

from capture.controller import Controller
from capture.events import ButtonEvent
from capture.machine import CaptureState
from capture.prompts import Language
from firmware.loop import EventLoop
from hal.contracts import Devices
from hal.types import Button, Press
from storage.kit import KitStore


class NoKit(enum.StrEnum):
    """Where a kit's program ended when no kit ran: its data folder was never flashed."""

    UNPROVISIONED = "unprovisioned"


#: Where a kit's program ended (`firmware.host.KitHost.run`, `firmware.pi.run_pi`): the
#: capture state its kit was in, or no kit at all.
KitEnd: TypeAlias = CaptureState | NoKit


class Kit:
    """Wires ``devices`` and ``store`` to a capture controller on an event loop."""

    def __init__(
        self,
        devices: Devices,
        store: KitStore,
        *,
        now: Callable[[], datetime],
        language: Language = Language.ID,
        tick_seconds: float = 1.0,
        after_event: Callable[[], None] | None = None,
    ) -> None:
        self.devices = devices
        self.store = store
        self._after_event = after_event
        self.loop = EventLoop(self._handle, now=now, tick_seconds=tick_seconds)
        self.controller = Controller(
            devices, store, run_job=self.loop.run_job, now=now, language=language
        )
        devices.panel.on_button(self.press)

    def _handle(self, event: object) -> None:
        self.controller.handle(event)
        if self._after_event is not None:
            self._after_event()

    def press(self, button: Button, press: Press = Press.SHORT) -> None:
        """A button, from any thread: queued for the loop."""
        self.loop.post(ButtonEvent(button, press))

    def start(self) -> None:
        """Boot the controller; call on the thread that runs the loop, before it runs."""
        self.controller.start()

    def close(self) -> None:
        """Stop the loop (a seal under way finishes first), close the store; safe twice.

        A wait for a person under way (the lock screen's for a finger, a pen) ends at once
        (`hal.contracts.Devices.stopping`): it writes nothing, and sitting it out kept
        Ctrl-C waiting for seconds.  The devices stay open for whoever opened them (the
        host, a test, the next kit after a reflash), their waits whole again.
        """
        self.loop.stop.set()  # no job is started again, not even a wait cut short
        self.devices.stopping.set()
        try:
            self.loop.close()
        finally:
            self.devices.stopping.clear()
        self.devices.panel.on_button(None)
        self.store.close()
