"""How the simulated kit is put together: what its host and its port are given."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.host import KitBusy
from simulator.kit import DEMO_HOLDS_THE_KIT, HeldKit, open_sim_kit


def test_a_scripted_day_s_port_refuses_changes_and_reads_the_running_kit(
    tmp_path: Path,
) -> None:
    """Flash, purge and keygen would close the kit under the officer bot: the demo's port
    refuses them, while the host itself (and what the port reads) stays as it is."""
    with open_sim_kit(tmp_path / "kit", seed=1, clock_speed=0.0, wired=False) as sim:
        held = HeldKit(sim.host)
        with pytest.raises(KitBusy, match="scripted demo") as refused:
            held.change(lambda: pytest.fail("the change ran"))
        assert str(refused.value) == DEMO_HOLDS_THE_KIT
        assert held.store is sim.kit.store and held.data_dir == sim.host.data_dir
        assert sim.host.change(lambda: "applied") == "applied"  # the host refuses nothing
