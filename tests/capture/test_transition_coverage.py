"""The flow tests (``test_flow_*.py``), taken together, take every transition the machine
declares.

This test runs those modules in their own pytest process with the kits' transition recorder
on (see ``conftest.py``), so it passes or fails the same alone as in the whole suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from capture.machine import CaptureEvent, CaptureState, declared_transitions

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
#: The tests that drive a kit button by button, one module per concern (they import their
#: walks as ``tests.capture.flows``, so they run from the repository's root).
FLOW_TESTS = sorted(str(path.relative_to(ROOT)) for path in HERE.glob("test_flow_*.py"))
#: The modules' whole run, with a bound in case a kit hangs.
RUN_TIMEOUT_SECONDS = 900


# the whole run is bounded above; the suite's default per-test timeout would cut it short on
# a loaded machine
@pytest.mark.timeout(RUN_TIMEOUT_SECONDS + 30)
def test_every_transition_is_taken(tmp_path: Path, transitions_env: str) -> None:
    taken_file = tmp_path / "transitions.txt"
    taken_file.touch()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *FLOW_TESTS],
        cwd=ROOT,
        env={**os.environ, transitions_env: str(taken_file)},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    assert done.returncode == 0, f"the flow tests failed:\n{done.stdout[-3000:]}"
    taken = {
        (CaptureState(source), CaptureEvent(event), CaptureState(target))
        for source, event, target in (
            line.split() for line in taken_file.read_text(encoding="utf-8").splitlines()
        )
    }
    missing = declared_transitions() - taken
    assert not missing, f"no flow test takes: {sorted(missing)}"
