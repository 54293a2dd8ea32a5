"""The Pi writes a new firmware into the Pico's other slot, over the UART, under the real
MicroPython: the boot stub starts it on trial, the Pi confirms it, a broken one is left.

The new firmware is this checkout's with another version, the broken one a firmware whose
``start.py`` raises as it is imported; both go through the driver's maintenance commands
(`PowerCoprocessor.install_firmware`) exactly as the kit's update sends them.
"""

from __future__ import annotations

import hashlib

import pytest

from hal import coprocessor
from hal.coprocessor import PowerCoprocessor, PowerState
from hal.exc import CoprocessorRefused
from hw_sim.pico import PicoSim, firmware_files
from tests.pico.conftest import firmware_version

#: How long a switched Pico takes to answer again, in wall-clock seconds (a busy machine).
RESTART_SECONDS = 20.0


def release(version: str = "9.8.7", **replaced: str) -> list[tuple[str, bytes]]:
    """This checkout's firmware as a release of ``version``, with files ``replaced``."""
    major, minor, patch = version.split(".")
    files = {path.name: path.read_text() for path in firmware_files()}
    files["version.py"] = f"MAJOR = {major}\nMINOR = {minor}\nPATCH = {patch}\nPROTOCOL = 1\n"
    files.update(replaced)
    return [(name, text.encode()) for name, text in sorted(files.items())]


def test_a_new_firmware_is_written_switched_to_on_trial_and_confirmed(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    driver.install_firmware(release("9.8.7"))
    assert driver.await_restart(timeout=RESTART_SECONDS).version_text == "9.8.7"
    assert (pico.flash / "active").read_text() == "b"
    assert (pico.flash / "trial").read_text() == "b 1"  # one boot on trial, counted
    assert [reset.cause for reset in pico.resets] == [3]  # machine.reset(), the RP2040's way
    assert pico.powered and not pico.cuts()  # the pull-up held the Pi through the reset
    assert driver.confirm() is True
    assert not (pico.flash / "trial").exists()
    assert driver.confirm() is False
    assert driver.heartbeat(sealing=False).state is PowerState.RUNNING


def test_a_firmware_that_fails_to_start_is_left_for_the_one_that_ran(
    pico: PicoSim, driver: PowerCoprocessor
) -> None:
    driver.install_firmware(release(**{"start.py": "raise ImportError('broken release')\n"}))
    # three boots on trial, each reset at its exception, then the stub goes back to slot a
    assert driver.await_restart(timeout=RESTART_SECONDS).version_text == firmware_version()
    pico.wait_until(lambda: len(pico.resets) == 4)
    assert (pico.flash / "active").read_text() == "a"
    assert not (pico.flash / "trial").exists()
    assert pico.powered and not pico.cuts()


def test_a_file_the_pico_wrote_otherwise_is_refused_and_the_running_slot_stays(
    pico: PicoSim, driver: PowerCoprocessor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Pico hashes what it wrote; a digest that differs (here the driver's, made wrong)
    is a NAK, and no switch follows."""
    wrong = hashlib.sha256(b"not what was sent")
    monkeypatch.setattr(coprocessor.hashlib, "sha256", lambda data: wrong)
    with pytest.raises(CoprocessorRefused, match="SHA-256 as written differs"):
        driver.install_firmware(release())
    assert (pico.flash / "active").read_text() == "a" and not pico.resets
    assert driver.heartbeat(sealing=False).state is PowerState.RUNNING  # ends the session
    assert driver.read_info().version_text == firmware_version()
