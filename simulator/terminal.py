"""``jemput-kit sim terminal``: the simulated kit, driven from the keyboard.

The event loop runs on its own thread, as on the kit; the terminal draws the display and
LED and turns keys into button presses.  The simulated officers log in with their PINs
(printed on screen), since a laptop has no finger to offer; the residents the officer
selects step in front of the kit and offer their fingers, face and signature.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

from hal.panel import COLOURS, PanelPins
from hal.types import Button, Indicator, Press
from simulator.kit import SimKit, open_sim_kit
from simulator.options import SimOptions
from simulator.power import press_power
from simulator.tui import PowerButton, TerminalUI, render


def facts(sim: SimKit) -> list[str]:
    """What a developer wants to know beside the display: who is where, and the kit's counts."""
    ctl, world = sim.kit.controller, sim.world
    subject = world.subject
    officers = "  ".join(f"{o.officer_id} PIN {o.pin}" for o in world.officers)
    in_front = getattr(subject, "name", None) or "nobody"
    sealed = ctl.sealed.seq if ctl.sealed else sim.kit.store.last_seq
    return [
        f"in front: {in_front}    battery {world.battery.percent:.0f}%    state {ctl.state}",
        f"last record #{sealed}    card stock {sim.kit.store.ledger.stock()}",
        f"officers: {officers}",
    ]


#: How long a held key keeps the BACK button down: past the panel's hold time.
HOLD_SECONDS = 1.2


def panel_io(sim: SimKit) -> tuple[Callable[[Button, Press], None], Callable[[], Indicator]]:
    """Keys as fingers on the panel, and the LED as the panel drives it.

    On the wired simulator the keys push gpiozero's mock pins, so the real panel driver
    (debounce, hold detection) turns them into presses, and the LED is read back from its
    pins; on the doubles, keys go straight to the kit.
    """
    if sim.wired is None:
        panel = sim.kit.devices.panel
        return sim.kit.press, lambda: getattr(panel, "indicator", Indicator.OFF)
    fingers = sim.wired.panel_driver(PanelPins())
    shown = {"last": Indicator.OFF}

    def press(button: Button, how: Press) -> None:
        fingers.press(button, hold_seconds=HOLD_SECONDS if how is Press.HOLD else 0.0)

    def indicator() -> Indicator:
        colour = fingers.led_colour()
        for candidate in (Indicator.READY, Indicator.BUSY, Indicator.ATTENTION, Indicator.FAULT):
            if COLOURS[candidate] == colour:
                shown["last"] = candidate
        if colour == COLOURS[Indicator.OFF] and shown["last"] is not Indicator.READY:
            shown["last"] = Indicator.OFF
        return shown["last"]

    return press, indicator


def key_presser(
    sim: SimKit, press: Callable[[Button, Press], None]
) -> Callable[[Button | PowerButton, Press], None]:
    """Keys to the kit: the panel's buttons to ``press``, the power button to the Pico."""

    def key(button: Button | PowerButton, how: Press) -> None:
        if isinstance(button, Button):
            press(button, how)
        elif sim.pico is not None:  # a kit without the co-processor has no power button
            press_power(sim.pico, how)

    return key


def run_terminal(options: SimOptions) -> None:
    """The kit on its own loop thread (which boots it), with its power co-processor; the
    devices wait as long as on a kit, for a person at the keyboard."""
    terminal = replace(
        options,
        booted=False,
        parts=replace(options.parts, coprocessor=True, time_scale=1.0),
    )
    with open_sim_kit(terminal) as sim:
        sim.bystanders.offer_finger = False
        display = sim.host.devices.display
        press, indicator = panel_io(sim)
        stop = threading.Event()

        def frame() -> str:
            return render(
                sim.kit.controller.screen,
                columns=display.columns,
                indicator=indicator(),
                facts=facts(sim),
            )

        worker = threading.Thread(target=sim.host.run, args=(stop,), name="kit-loop", daemon=True)
        worker.start()
        try:
            TerminalUI(frame=frame, press=key_presser(sim, press), stop=stop).run()
        finally:
            stop.set()
            worker.join(timeout=5)
