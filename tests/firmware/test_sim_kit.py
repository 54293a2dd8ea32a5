"""How the simulated kit is put together: its options, and what its host is told."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from capture.machine import CaptureState
from firmware.host import KitBusy
from simulator.kit import DEMO_HOLDS_THE_KIT, HeldKit, open_sim_kit
from simulator.options import DOUBLES, SimOptions, SimOptionsError, SimParts


@pytest.mark.parametrize(
    ("parts", "said"),
    [
        (dict(fast=True), "fast needs"),
        (dict(coprocessor=True), "coprocessor needs"),
        (dict(fast=True, coprocessor=True), "fast and coprocessor need"),
    ],
)
def test_the_doubles_refuse_what_only_wires_have(
    tmp_path: Path, parts: dict[str, bool], said: str
) -> None:
    """A co-processor or the wires' pace asked of the contract-level doubles is refused
    with a message before anything opens, not silently dropped."""
    refused = f"^the contract-level doubles have no wires .*: {said} the wire emulators$"
    with (
        pytest.raises(SimOptionsError, match=refused),
        open_sim_kit(SimOptions(tmp_path / "kit", parts=SimParts(doubles=True, **parts))),
    ):
        pass
    assert not (tmp_path / "kit").exists()


def test_a_scripted_day_s_port_refuses_changes_and_reads_the_running_kit(
    tmp_path: Path,
) -> None:
    """Flash, purge and keygen would close the kit under the officer bot: the demo's port
    refuses them, while the host itself (and what the port reads) stays as it is."""
    with open_sim_kit(SimOptions(tmp_path / "kit", clock_speed=0.0, parts=DOUBLES)) as sim:
        held = HeldKit(sim.host)
        with pytest.raises(KitBusy, match="scripted demo") as refused:
            held.change(lambda: pytest.fail("the change ran"))
        assert str(refused.value) == DEMO_HOLDS_THE_KIT
        assert held.store is sim.kit.store and held.data_dir == sim.host.data_dir
        assert sim.host.change(lambda: "applied") == "applied"  # the host refuses nothing


def test_closing_the_kit_ends_its_wait_for_a_finger_and_the_next_waits_are_whole(
    tmp_path: Path,
) -> None:
    """The doubles wait as a kit does (the lock screen's ten seconds for a finger that
    nobody brings); closing the kit ends that wait, so no device worker is left behind
    in it, and the devices' next waits are whole again (a reflash opens the next kit)."""
    before = set(threading.enumerate())
    options = SimOptions(tmp_path / "kit", clock_speed=0.0, parts=replace(DOUBLES, time_scale=1.0))
    with open_sim_kit(options) as sim:
        sim.bystanders.offer_finger = False
        kit, deadline = sim.kit, time.monotonic() + 60

        def waiting() -> bool:
            return kit.controller.state is CaptureState.LOCKED and kit.controller.busy

        kit.loop.run(until=lambda: waiting() or time.monotonic() > deadline)
        assert waiting(), kit.controller.screen
        sim.host.close()
        left = [t.name for t in set(threading.enumerate()) - before if t.name.endswith("-job")]
        assert left == [], "a worker still waits for a finger"
        assert not kit.devices.stopping.is_set()
