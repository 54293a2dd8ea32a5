"""The tests of ``test_machine.py``, taken together, take every transition the machine declares.

This test runs that module in its own pytest process with the kits' transition recorder on
(see ``conftest.py``), so it passes or fails the same alone as in the whole suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from capture.machine import CaptureEvent, CaptureState, declared_transitions

HERE = Path(__file__).parent
#: The module's whole run, with a bound in case a kit hangs.
RUN_TIMEOUT_SECONDS = 900


def test_every_transition_is_taken(tmp_path: Path, transitions_env: str) -> None:
    taken_file = tmp_path / "transitions.txt"
    taken_file.touch()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "test_machine.py"],
        cwd=HERE,
        env={**os.environ, transitions_env: str(taken_file)},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    assert done.returncode == 0, f"test_machine.py failed:\n{done.stdout[-3000:]}"
    taken = {
        (CaptureState(source), CaptureEvent(event), CaptureState(target))
        for source, event, target in (
            line.split() for line in taken_file.read_text(encoding="utf-8").splitlines()
        )
    }
    missing = declared_transitions() - taken
    assert not missing, f"no test of test_machine.py takes: {sorted(missing)}"
