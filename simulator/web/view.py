"""What the page shows, as one JSON-ready snapshot of the simulated kit.

The page redraws from snapshots pushed over server-sent events; images (display, camera,
printed cards) are fetched by URL with a version number, so a snapshot stays small and
changes only when something on the kit did.
"""

from __future__ import annotations

import zlib
from typing import Any

from hal.panel import COLOURS
from hal.types import FingerPosition, Indicator
from hw_sim.wired import WiredKit
from hw_sim.world import Person
from simulator.kit import SimKit
from simulator.tray import OutputTray
from simulator.web.events import EventLog
from simulator.web.texts import page_catalogue


def led_css(indicator: Indicator) -> str:
    """The LED's colour as CSS, from the colour the panel driver sets on its pins."""
    red, green, blue = (round(part * 255) for part in COLOURS[indicator])
    return f"rgb({red}, {green}, {blue})"


def residents(sim: SimKit) -> list[dict[str, object]]:
    """Everyone who may stand in front of the kit: the worklist, then the walk-ins."""
    return [
        {"nik": p.nik, "name": p.name, "worklist": p.on_worklist}
        for p in sim.world.residents + sim.world.walk_ins
    ]


def controls_catalogue() -> dict[str, Any]:
    """The choices the page offers (fingers, fault kinds per device) and its texts."""
    return {
        "fingers": [p.name for p in FingerPosition if p is not FingerPosition.UNKNOWN],
        "faults": {device: list(kinds) for device, kinds in WiredKit.DEVICE_FAULTS.items()},
        "texts": page_catalogue(),
    }


def officers(sim: SimKit) -> list[dict[str, str | None]]:
    """The kit's officers as its PIN menu lists them (name, in its order), with their role
    and the PIN the simulated world knows for them (None for one it does not)."""
    return [
        {
            "name": officer.name,
            "role": officer.role.value,
            "pin": known.pin if (known := sim.world.officer(officer.officer_id)) else None,
        }
        for officer in sim.kit.store.officers.values()
    ]


def snapshot(
    sim: SimKit,
    *,
    indicator: Indicator,
    tray: OutputTray,
    log: EventLog,
    training: dict[str, Any] | None,
) -> dict[str, Any]:
    """The kit as the page draws it now."""
    wired = sim.wired
    assert wired is not None  # the browser kit always runs the wired simulator
    ctl, world = sim.kit.controller, sim.world
    subject = world.subject
    in_front = (
        {"name": subject.name, "nik": subject.nik}
        if isinstance(subject, Person)
        else {"name": getattr(subject, "name", ""), "nik": ""}
        if subject is not None
        else None
    )
    stand_in = sim.bystanders.stand_in  # the page chooses residents only
    return {
        "state": str(ctl.state),
        "screen": list(ctl.screen),
        # busy: the loop handles an event or the state waits for its device; a print
        # behind the machine is not (the officer starts the next person meanwhile)
        "busy": ctl.busy or sim.kit.loop.handling(),
        "behind": [str(kind) for kind in ctl.kinds_behind],
        "display_version": zlib.crc32(bytes(wired.display.ram)) ^ wired.display.display_on,
        "led": {"indicator": indicator.value, "colour": led_css(indicator)},
        "in_front": in_front,
        "stand_in": stand_in.nik if isinstance(stand_in, Person) else None,
        "glass": {
            "quality": world.glass.value,
            "finger": world.glass_position.name if world.glass_position else "asked",
        },
        "camera_version": len(wired.camera.received),
        "battery": round(world.battery.percent, 1),
        "faults": {name: sorted(switch.faults) for name, switch in wired.emulators.items()},
        "printed": [
            {"kind": item.kind.value, "name": item.name, "number": item.number}
            for item in tray.items
        ],
        # the kit's count, as its READY screen shows it ("kartu:40"), and the blanks that
        # are really in the printer, which a scenario may empty while the ledger counts on
        "cards": sim.kit.store.ledger.stock(),
        "hopper": wired.card_printer.hopper,
        "last_record": sim.kit.store.last_seq,
        "officers": officers(sim),
        "pen": {"page_signs": wired.page_signs, "waiting": wired.pen_waiting},
        "log": log.tail(),
        "log_count": log.count,
        "training": training,
    }
