"""The simulated kits on a pty that the provisioning tests share."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from firmware.port import KitPort
from simulator.kit import open_sim_kit
from simulator.options import DOUBLES, Provisioning, SimOptions
from storage.keys import Authority
from storage.kit import provision
from storage.model import Policy
from tests.provisioning.kit_bench import Bench, open_bench

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[Bench]:
    with open_bench(tmp_path) as opened:
        yield opened


@pytest.fixture
def kit(tmp_path: Path) -> Iterator[tuple[KitPort, Authority, Authority]]:
    """Kit K1 provisioned in place (no flash: quick) on the fast doubles, its port's
    responder, its authority, and a stranger authority."""
    authority = Authority.init(tmp_path / "auth", name="Dukcapil")
    stranger = Authority.init(tmp_path / "stranger", name="stranger")
    provision(
        tmp_path / "kit",
        authority=authority,
        kit_id="K1",
        region="3505",
        officers=(),
        worklist=(),
        policy=Policy(),
        now=NOW,
    )
    with open_sim_kit(
        SimOptions(
            tmp_path / "kit", clock_speed=0.0, parts=DOUBLES, provisioning=Provisioning.UNFLASHED
        )
    ) as sim:
        sim.host.set_clock(NOW)
        yield KitPort(tmp_path / "kit", sim.host), authority, stranger
