"""``python -m hw_sim coprocessor --link PATH``: the Pico's firmware on a pty, for other tools."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from hal.coprocessor import PowerCoprocessor, PowerState
from hw_sim.pico import ROOT
from tests.pico.conftest import DRIVER_TIMEOUT, firmware_version


def test_python_m_hw_sim_runs_the_firmware_a_driver_can_open(tmp_path: Path) -> None:
    link = tmp_path / "pico"
    process = subprocess.Popen(
        [sys.executable, "-m", "hw_sim", "coprocessor", "--link", str(link)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not link.is_symlink():
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the link never appeared"
            time.sleep(0.05)
        with PowerCoprocessor(port=str(link), timeout=DRIVER_TIMEOUT) as pico:
            assert pico.info.version_text == firmware_version()
            assert pico.heartbeat(sealing=False).state is PowerState.RUNNING
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert f"linked at {link}" in out and "stopped" in out
    assert not link.is_symlink()
