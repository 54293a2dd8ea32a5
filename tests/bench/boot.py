"""Boot to ready: a fresh process until the simulated kit shows its lock screen, against
a fresh process that only imports the third-party packages the booted kit had imported.

The kit is already provisioned (the first boot, not timed, makes it a demo kit); the
emulators run fast, since the baseline moves no bytes either.  Each side is the median
of a few runs.  ``python -m tests.bench.boot DATA`` is the kit's side.

Both sides load compiled bytecode, as on a kit (pip compiles what it installs): the
third-party packages have theirs from their install, ours is cached under the run's
scratch folder by the first boot (not timed), even where ``PYTHONDONTWRITEBYTECODE`` is
set, which would otherwise charge the kit for compiling its source at every boot.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.bench.core import Goal, Row, Run, benchmark

BOOT_GOAL = Goal(ratio_max=2.0)
_OURS = {
    *("capture", "firmware", "hal", "hw_sim", "kitlink", "office", "provisioning"),
    *("simulator", "storage", "tests", "vocabulary"),
}
_READY = "ready "
_DEADLINE_SECONDS = 120.0


def _environment(pycache: Path) -> dict[str, str]:
    """Fast emulators, and bytecode written and read under ``pycache``."""
    settings = {**os.environ, "JEMPUT_TIMING": "fast", "PYTHONPYCACHEPREFIX": str(pycache)}
    settings.pop("PYTHONDONTWRITEBYTECODE", None)
    return settings


def _until_ready(data_dir: Path, pycache: Path) -> tuple[float, list[str]]:
    """Seconds from launching the kit's process to its ready line, and its packages."""
    start = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-m", "tests.bench.boot", str(data_dir)],
        stdout=subprocess.PIPE,
        text=True,
        env=_environment(pycache),
    ) as child:
        assert child.stdout is not None
        line = child.stdout.readline()
        seconds = time.perf_counter() - start
        child.wait(timeout=_DEADLINE_SECONDS)
    if not line.startswith(_READY):
        raise RuntimeError(f"the booting kit did not say it was ready: {line!r}")
    return seconds, json.loads(line.removeprefix(_READY))


def _imports_only(packages: list[str], pycache: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "".join(f"import {name}\n" for name in packages)],
        check=True,
        env=_environment(pycache),
        timeout=_DEADLINE_SECONDS,
    )
    return time.perf_counter() - start


@benchmark("boot")
def boot(run: Run) -> list[Row]:
    data_dir, pycache = run.scratch / "boot-kit", run.scratch / "pycache"
    # provisions the demo kit and compiles the bytecode; not timed
    _, packages = _until_ready(data_dir, pycache)
    rounds = run.size(3, 1)
    booted = statistics.median(_until_ready(data_dir, pycache)[0] for _ in range(rounds))
    imported = statistics.median(_imports_only(packages, pycache) for _ in range(rounds))
    return [
        Row(
            "boot",
            "boot to ready on the simulator",
            booted,
            "s",
            imported,
            f"importing the same {len(packages)} third-party packages",
            BOOT_GOAL,
        )
    ]


def third_party() -> list[str]:
    """Top-level third-party packages imported so far (not the stdlib, not ours)."""
    names = {name.partition(".")[0] for name in sys.modules}
    return sorted(
        name
        for name in names
        if name not in sys.stdlib_module_names and name not in _OURS and not name.startswith("_")
    )


def _boot(data_dir: Path) -> None:
    from simulator.demo import OfficerBot
    from simulator.kit import open_sim_kit
    from simulator.options import SimOptions

    with open_sim_kit(SimOptions(data_dir, clock_speed=0.0)) as sim:
        bot = OfficerBot(sim.kit, sim.world, sim.bystanders)
        sim.bystanders.offer_finger = False
        deadline = time.monotonic() + _DEADLINE_SECONDS
        while sim.kit.controller.state != "locked":
            bot.settle()
            if time.monotonic() > deadline:
                raise SystemExit(f"the kit never became ready: {sim.kit.controller.screen}")
        print(_READY + json.dumps(third_party()), flush=True)


if __name__ == "__main__":
    _boot(Path(sys.argv[1]))
