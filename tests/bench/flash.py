"""Flash memory: the kit's peak RSS while `jemput-prov flash` loads 100,000 residents.

The kit is its own process (``python -m tests.bench.flash DATA``): the simulated kit on
the fast contract doubles, its responder (``firmware.port``) served on a pty, as on a kit
its USB gadget serial.  This process runs the tool's real ``flash`` against that pty, then
closes the kit's stdin; ``wait4``'s ``ru_maxrss`` is the kit's peak.  The baseline is the
same kit process started and stopped without a flash, in the same run: what the kit costs
before any worklist.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from firmware.port import KitPort
from hw_sim.provisioning_port import PtyPort
from provisioning.cli import app
from simulator.kit import open_sim_kit
from simulator.options import DOUBLES, Provisioning, SimOptions
from storage.keys import Authority
from storage.worklist import write_worklist
from tests.bench.core import Goal, Row, Run, benchmark, waited_peak_mb
from tests.provisioning.kit_bench import generated_residents, inputs

#: The issue's bound: a 1 GB Pi runs the kit with room for the system.
BUDGET_MB = 300.0
FLASH_GOAL = Goal(figure_max=BUDGET_MB)


class _KitProcess:
    """An unflashed simulated kit in its own process, served on a pty until stopped.

    Start it before this process grows: on Linux a child's ``ru_maxrss`` starts at its
    parent's resident set at the fork.
    """

    def __init__(self, data_dir: Path) -> None:
        self._child = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.flash", str(data_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._child.stdin is not None and self._child.stdout is not None
        self.port = self._child.stdout.readline().strip()

    def stop(self) -> float:
        """Stop the kit; its peak RSS in MB."""
        assert self._child.stdin is not None
        self._child.stdin.close()
        return waited_peak_mb(self._child, "the kit process")


@benchmark("flash")
def flash_memory(run: Run) -> list[Row]:
    residents = run.size(100_000, 500)
    folder = run.scratch / "flash"
    folder.mkdir()
    bare = _KitProcess(folder / "bare-kit").stop()
    kit = _KitProcess(folder / "kit")
    try:
        inputs(folder)
        write_worklist(generated_residents(residents), folder / "worklist.csv")
        Authority.init(folder / "authority", name="BENCH")
        result = CliRunner().invoke(
            app,
            [
                *("flash", kit.port, "--authority", str(folder / "authority")),
                *("--kit-id", "KIT-3505-07", "--region", "3505"),
                *("--officers", str(folder / "officers.csv")),
                *("--worklist", str(folder / "worklist.csv")),
                *("--policy", str(folder / "policy.toml")),
            ],
        )
    finally:
        peak = kit.stop()
    if result.exit_code:
        raise RuntimeError(f"the flash failed: {result.output}")
    return [
        Row(
            "flash",
            f"kit peak RSS flashing {residents:,} residents",
            peak,
            "MB",
            bare,
            "the kit process, not flashed",
            FLASH_GOAL,
        )
    ]


def _serve(data_dir: Path) -> None:
    """The kit's side: an unflashed simulated kit on a pty until stdin closes."""
    options = SimOptions(
        data_dir, clock_speed=0.0, parts=DOUBLES, provisioning=Provisioning.UNFLASHED
    )
    with open_sim_kit(options) as sim, PtyPort(KitPort(data_dir, sim.host)) as link:
        print(link.port, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    _serve(Path(sys.argv[1]))
