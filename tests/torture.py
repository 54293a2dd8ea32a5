"""Crash torture: kill `jemput-kit sim demo` with SIGKILL at random moments, restart, check.

Run ``make torture N=200`` (or ``python -m tests.torture --iterations N --seed S``).  Each
iteration starts the demo in a subprocess on the same data folder, kills it after a random
delay drawn from the seeded generator, then checks what DESIGN's "Storage" promises:

* every record the kit reported saved is present and verifies, the chain intact and
  contiguous from 1;
* no temporary file survives a restart;
* card stock = loaded - taken, every taken card printed, spoiled or awaiting the officer's
  answer, and no record got two cards;
* the audit chain is intact;
* an interrupted enrolment is never lost: it is either still in the journal or sealed.

A failure prints the seed and iteration, so it can be replayed exactly.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from capture.draft import Draft
from storage.files import TEMP_SUFFIX
from storage.keys import AuthorityPublic
from storage.kit import KitStore
from storage.layout import is_provisioned
from storage.verify import verify_folder

SEALED = re.compile(rb"sealed #(\d+)")
#: Residents one demo run enrols; a data folder serves this many runs before a fresh one.
PEOPLE_PER_RUN = 3
RUNS_PER_KIT = 12
#: A run let finish that takes longer than this is hung, not slow (one takes seconds).
FINISH_SECONDS = 300.0


class TortureFailure(AssertionError):
    """A promise of the store was broken; the message says which and how to replay it."""


@dataclass
class KitHistory:
    """What the checks remember about one data folder across kills."""

    data_dir: Path
    reported: set[int] = field(default_factory=set)
    interrupted: set[str] = field(default_factory=set)
    runs: int = 0


def run_demo(data_dir: Path, *, kill_after: float | None, seed: int) -> tuple[set[int], int]:
    """One demo run, killed after ``kill_after`` seconds (None: let it finish)."""
    command = [
        sys.executable,
        "-m",
        "firmware.cli",
        "sim",
        "demo",
        "--people",
        str(PEOPLE_PER_RUN),
        "--data-dir",
        str(data_dir),
        "--seed",
        str(seed),
        "--doubles",  # the store is under test here; the drivers have their own wire tests
    ]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    try:
        output, _ = process.communicate(timeout=kill_after or FINISH_SECONDS)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        output, _ = process.communicate()
        if kill_after is None:
            raise TortureFailure(
                f"the demo did not finish within {FINISH_SECONDS:.0f} s:\n"
                + output.decode(errors="replace")
            ) from None
    if process.returncode not in (0, -signal.SIGKILL):
        raise TortureFailure(
            f"the demo failed on its own (exit {process.returncode}):\n"
            + output.decode(errors="replace")
        )
    return {int(seq) for seq in SEALED.findall(output)}, process.returncode


def check(history: KitHistory, *, finished: bool) -> None:
    """Every promise, checked on the folder as a restarted kit finds it."""
    data_dir = history.data_dir
    if not is_provisioned(data_dir):
        if history.reported:
            raise TortureFailure(f"{data_dir}: the kit lost its profile after sealing records")
        return  # killed while provisioning, before anything was sealed
    store = KitStore(data_dir, now=lambda: datetime.now(UTC), verify_files=True)
    try:
        status = store.status()
        leftovers = list((data_dir / "records").glob(f"*{TEMP_SUFFIX}"))
        if leftovers:
            raise TortureFailure(f"temporary files survived the restart: {leftovers}")
        if status.damaged:
            raise TortureFailure(f"damaged records: {status.damaged}")
        if status.audit_break is not None:
            raise TortureFailure(f"audit chain broken: {status.audit_break}")
        report = verify_folder(
            data_dir / "records", AuthorityPublic.load(data_dir / "demo-authority")
        )
        if not report.ok or report.gaps or (report.count and report.first != 1):
            raise TortureFailure(f"the chain does not verify: {report}")
        missing = history.reported - set(range(1, report.last + 1 if report.count else 1))
        if missing:
            raise TortureFailure(f"records reported saved are gone: {sorted(missing)}")
        cards = store.ledger.counts()
        if cards["stock"] < 0 or cards["unresolved"] < 0:
            raise TortureFailure(f"card ledger out of balance: {cards}")
        cards_per_record = Counter(seq for seq, _ in store.ledger.printed_cards())
        doubles = sorted(seq for seq, count in cards_per_record.items() if count > 1)
        if doubles:
            raise TortureFailure(f"records got two cards without a reprint: {doubles}")
        recorded = store.recorded_refs()
        journaled = store.journal.load()
        in_journal = Draft.from_map(dict(journaled)).resident.worklist_ref if journaled else None
        lost = {ref for ref in history.interrupted if ref not in recorded and ref != in_journal}
        if lost:
            raise TortureFailure(f"interrupted enrolments were lost: {sorted(lost)}")
        if finished and history.interrupted - recorded:
            raise TortureFailure(f"a finished run did not resume {history.interrupted - recorded}")
        history.interrupted = {ref for ref in history.interrupted if ref not in recorded}
        if in_journal is not None:
            history.interrupted.add(in_journal)
    finally:
        store.close()


def torture(iterations: int, *, seed: int, root: Path, say=print) -> None:
    rng = random.Random(seed)
    history: KitHistory | None = None
    for iteration in range(iterations):
        if history is None or history.runs >= RUNS_PER_KIT:
            history = KitHistory(root / f"kit-{iteration:04d}")
        finish = history.runs == RUNS_PER_KIT - 1 or iteration == iterations - 1
        kill_after = None if finish else rng.uniform(0.3, 4.0)
        try:
            reported, code = run_demo(history.data_dir, kill_after=kill_after, seed=1)
            history.reported |= reported
            history.runs += 1
            check(history, finished=code == 0)
        except TortureFailure as failure:
            raise TortureFailure(
                f"iteration {iteration} (replay: --seed {seed} --iterations {iteration + 1}): "
                f"{failure}"
            ) from None
        outcome = "finished" if kill_after is None else f"killed after {kill_after:.2f} s"
        say(
            f"[{iteration + 1}/{iterations}] {outcome}; records {len(history.reported)} reported, "
            f"all present; pending resume {sorted(history.interrupted) or 'none'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    parser.add_argument("--keep", type=Path, help="Keep the data folders here.")
    args = parser.parse_args()
    print(f"torture: {args.iterations} iterations, --seed {args.seed}")
    with tempfile.TemporaryDirectory(prefix="jemput-torture-") as scratch:
        root = args.keep or Path(scratch)
        try:
            torture(args.iterations, seed=args.seed, root=root)
        except TortureFailure as failure:
            sys.exit(f"TORTURE FAILED: {failure}")
    print("torture: every promise kept")


if __name__ == "__main__":
    main()
