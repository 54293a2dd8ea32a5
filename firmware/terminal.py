"""``jemput-kit run --sim``: the simulated kit, driven from the keyboard.

The event loop runs on its own thread, as on the kit; the terminal draws the display and
LED and turns keys into button presses.  The simulated officers log in with their PINs
(printed on screen), since a laptop has no finger to offer; the residents the officer
selects step in front of the kit and offer their fingers, face and signature.
"""

from __future__ import annotations

import threading

from firmware.config import KitConfig
from firmware.sim import SimKit, open_sim_kit
from firmware.tui import TerminalUI, render
from hal.types import Indicator


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


def run_terminal(settings: KitConfig, *, seed: int) -> None:
    with open_sim_kit(
        settings.data_dir,
        seed=seed,
        language=settings.language,
        clock_speed=1.0,
        time_scale=1.0,
        booted=False,
    ) as sim:
        sim.bystanders.offer_finger = False
        loop = sim.kit.loop
        panel = sim.kit.devices.panel
        display = sim.kit.devices.display

        def frame() -> str:
            indicator = getattr(panel, "indicator", Indicator.OFF)
            return render(
                sim.kit.controller.screen,
                columns=display.columns,
                indicator=indicator,
                facts=facts(sim),
            )

        def serve() -> None:
            sim.kit.start()
            loop.run()

        worker = threading.Thread(target=serve, name="kit-loop", daemon=True)
        worker.start()
        try:
            TerminalUI(frame=frame, press=sim.kit.press, stop=loop.stop).run()
        finally:
            loop.stop.set()
            worker.join(timeout=5)
