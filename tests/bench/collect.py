"""Collect: records pulled over the provisioning port (a pty) against a raw copy of the
same bytes over a pty.

The kit side is the kit's own responder (``firmware.port``) on a data folder of sealed,
realistic records; the tool side is ``provisioning.collect`` verifying every record into
a collector database, as ``jemput-prov collect`` does.
"""

from __future__ import annotations

import os
import pty
import threading
import tty

from firmware.port import KitPort
from hw_sim.provisioning_port import PtyPort
from kitlink.framing import FramedPort
from provisioning.collect import collect as pull
from provisioning.collector import CollectorDB
from simulator.kit import open_sim_kit
from simulator.options import DOUBLES, Provisioning, SimOptions
from storage.keys import Authority
from tests.bench.core import Goal, Row, Run, benchmark, timed
from tests.bench.crypto import demo_store
from tests.bench.records import enrolment

COLLECT_GOAL = Goal(ratio_min=0.8)
_CHUNK = 65536


def raw_copy(count: int) -> float:
    """Seconds to push ``count`` bytes through a raw pty, master to slave."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    payload = os.urandom(_CHUNK)

    def writer() -> None:
        left = count
        while left > 0:
            left -= os.write(master, payload[: min(left, _CHUNK)])

    def copy() -> None:
        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        got = 0
        while got < count:
            got += len(os.read(slave, _CHUNK))
        thread.join(timeout=5.0)

    try:
        return timed(copy)
    finally:
        os.close(master)
        os.close(slave)


@benchmark("collect")
def collect(run: Run) -> list[Row]:
    authority = Authority.init(run.scratch / "collect-authority", name="BENCH", demo=True)
    folder = run.scratch / "collect-kit"
    person = enrolment()
    with demo_store(folder, authority) as store:
        for _ in range(run.size(20, 2)):
            store.seal(person)
    # the kit's own host serves its port, as on a kit (contract-level devices: no wires)
    with (
        open_sim_kit(
            SimOptions(folder, clock_speed=0.0, parts=DOUBLES, provisioning=Provisioning.UNFLASHED)
        ) as sim,
        PtyPort(KitPort(folder, sim.host)) as link,
        FramedPort(port=link.port) as port,
        CollectorDB(run.scratch / "collector.db") as db,
    ):
        outcome: list[object] = []
        seconds = timed(lambda: outcome.append(pull(port, authority, db)))
    moved = outcome[0].bytes  # type: ignore[attr-defined]
    return [
        Row(
            "collect",
            f"collect over a pty ({moved / 1e6:.1f} MB of records)",
            moved / seconds,
            "bytes/s",
            moved / raw_copy(moved),
            "raw copy over a pty",
            COLLECT_GOAL,
        )
    ]
