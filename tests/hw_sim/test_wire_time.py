"""The simulator keeps the wires' time: checked on a recording clock, never by a stopwatch.

Every delay an emulator asks for goes to a :class:`RecordingClock`, which advances its own
time by it at once.  The emulators' link thread is the only one asking, so the recorded
total is exactly what the model says: bytes x bits per byte / baud, plus the datasheet
times of what the part did.
"""

from __future__ import annotations

import os
import threading

import pytest
from PIL import Image

from hal.card_printer import CARD_HEIGHT, CARD_WIDTH, EvolisPrinter
from hal.fingerprint import R30xSensor
from hal.receipt_printer import EscPosPrinter
from hal.signature_pad import TopazPad
from hal.types import FingerPosition
from hw_sim import card_printer_emulator, fingerprint_emulator, wired
from hw_sim.card_printer_emulator import CardPrinterEmulator
from hw_sim.fingerprint_emulator import FingerprintEmulator
from hw_sim.fingers import Finger
from hw_sim.link import SLICE_SECONDS, PtyLink
from hw_sim.receipt_printer_emulator import ReceiptPrinterEmulator
from hw_sim.signature_pad_emulator import SignaturePadEmulator
from hw_sim.timing import TIMING_VARIABLE, LineFormat, Parity, Timing

WAIT = 5.0  # an upper bound for a background thread; never a timing assertion


class RecordingClock:
    """A clock whose sleeps return at once and move its time on by what was asked."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.delays: list[float] = []
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.delays.append(seconds)
            self.now += seconds

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    @property
    def total(self) -> float:
        with self._lock:
            return sum(self.delays)

    def timing(self) -> Timing:
        return Timing(sleep=self.sleep, monotonic=self.monotonic)


def read_exactly(fd: int, count: int) -> bytes:
    data = b""
    while len(data) < count:
        data += os.read(fd, count - len(data))
    return data


@pytest.mark.parametrize(
    ("line", "bits"),
    [
        (LineFormat(57600), 10),
        (LineFormat(19200, parity=Parity.ODD), 11),
        (LineFormat(9600, parity=Parity.EVEN, stop_bits=2), 12),
        (LineFormat(9600, data_bits=7), 9),
    ],
)
def test_bits_per_byte_follow_the_frame_format(line: LineFormat, bits: int) -> None:
    assert line.bits_per_byte == bits
    assert line.seconds(line.baudrate) == pytest.approx(bits)


def test_a_line_format_refuses_what_no_uart_sends() -> None:
    with pytest.raises(ValueError, match="baud rate must be positive"):
        LineFormat(0)
    with pytest.raises(ValueError, match=r"5\.\.8 data bits"):
        LineFormat(9600, data_bits=9)


def test_the_environment_picks_the_default_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TIMING_VARIABLE, "real")
    assert not Timing.default().fast
    monkeypatch.setenv(TIMING_VARIABLE, "fast")
    assert Timing.default().fast
    monkeypatch.setenv(TIMING_VARIABLE, "slow")
    with pytest.raises(ValueError, match="expected 'real' or 'fast'"):
        Timing.default()


def test_a_time_scale_shrinks_the_wires_the_parts_and_the_people_alike() -> None:
    line = LineFormat(115200)
    half, real = Timing(scale=0.5), Timing()
    assert half.wire(line, 1000) == real.wire(line, 1000) / 2
    assert half.device(13.0) == 6.5
    assert half.human(30.0) == 15.0 and real.human(30.0) == 30.0
    assert repr(half) == "<Timing real x0.5>"
    with pytest.raises(ValueError, match="shrinks time"):
        Timing(scale=2)


def test_what_the_device_sends_takes_its_bytes_time_in_short_slices() -> None:
    clock = RecordingClock()
    line = LineFormat(57600)
    data = bytes(range(256)) * 8
    with PtyLink(lambda _: None, line=line, timing=clock.timing()) as link:
        fd = os.open(link.port, os.O_RDONLY | os.O_NOCTTY)
        try:
            link.send(data)
            assert read_exactly(fd, len(data)) == data
        finally:
            os.close(fd)
    assert clock.total == pytest.approx(len(data) * 10 / 57600)
    assert max(clock.delays) <= SLICE_SECONDS * 1.01


def test_what_the_driver_writes_reaches_the_device_at_the_line_rate() -> None:
    clock = RecordingClock()
    heard = bytearray()
    done = threading.Event()
    line = LineFormat(19200, parity=Parity.ODD)

    def on_bytes(chunk: bytes) -> None:
        heard.extend(chunk)
        if len(heard) >= 500:
            done.set()

    with PtyLink(on_bytes, line=line, timing=clock.timing()) as link:
        fd = os.open(link.port, os.O_WRONLY | os.O_NOCTTY)
        try:
            os.write(fd, bytes(500))
            assert done.wait(WAIT)
        finally:
            os.close(fd)
    assert clock.total == pytest.approx(500 * 11 / 19200)


def test_bytes_booked_while_others_are_on_the_wire_queue_behind_them() -> None:
    clock = RecordingClock()
    with PtyLink(lambda _: None, line=LineFormat(9600), timing=clock.timing()) as link:
        assert link.outbound is not None
        clock.sleep(0.0)
        link.outbound.occupy(96)  # 0.1 s
        clock.now -= 0.05  # as if the next write came half-way through the first
        link.outbound.occupy(96)
    assert clock.delays[-2:] == [pytest.approx(0.1), pytest.approx(0.15)]


def test_fast_mode_asks_for_no_time() -> None:
    clock = RecordingClock()
    fast = Timing(fast=True, sleep=clock.sleep, monotonic=clock.monotonic)
    with FingerprintEmulator(timing=fast) as emulator, R30xSensor(port=emulator.port) as sensor:
        emulator.place(Finger(person_seed=3, position=2))
        before = emulator.floor_seconds
        sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=WAIT)
        sensor.upload_image(FingerPosition.RIGHT_INDEX)
        floor = emulator.floor_seconds - before
    assert clock.delays == []
    # what the real kit would spend is still counted: the image at 115200 and its imaging
    image_seconds = 256 * 288 // 2 * 10 / 115200
    assert floor > image_seconds + fingerprint_emulator.IMAGE_SECONDS


def test_the_sensor_follows_the_drivers_baud_switch_and_a_finger_costs_its_image() -> None:
    clock = RecordingClock()
    with (
        FingerprintEmulator(timing=clock.timing()) as emulator,
        R30xSensor(port=emulator.port, read_timeout=WAIT) as sensor,
    ):
        link = emulator._link
        assert link.outbound is not None and link.inbound is not None
        assert link.outbound.format == LineFormat(115200) == link.inbound.format
        emulator.place(Finger(person_seed=3, position=2))
        before = clock.total, link.outbound.carried, link.inbound.carried
        sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=WAIT)
        sensor.upload_image(FingerPosition.RIGHT_INDEX)
        sent = link.outbound.carried - before[1]
        heard = link.inbound.carried - before[2]
        spent = clock.total - before[0]
    image_bytes = 256 * 288 // 2
    assert sent > image_bytes  # the 4-bit image, its packet headers, acks and template
    assert spent == pytest.approx((sent + heard) * 10 / 115200 + fingerprint_emulator.IMAGE_SECONDS)


def test_the_handshake_runs_at_the_power_up_rate() -> None:
    clock = RecordingClock()
    with FingerprintEmulator(timing=clock.timing()) as emulator:
        link = emulator._link
        assert link.outbound is not None and link.inbound is not None
        with R30xSensor(port=emulator.port, fast_baudrate=None, read_timeout=WAIT):
            pass
        carried = link.outbound.carried + link.inbound.carried
    assert clock.total == pytest.approx(carried * 10 / 57600)


def test_a_card_costs_its_panel_at_115200_and_the_print_time() -> None:
    clock = RecordingClock()
    with (
        CardPrinterEmulator(hopper=1, timing=clock.timing()) as emulator,
        EvolisPrinter(port=emulator.port, reply_timeout=WAIT) as printer,
    ):
        printer.print_card(Image.new("1", (CARD_WIDTH, CARD_HEIGHT), 1), timeout=WAIT)
        link = emulator._link
        assert link.outbound is not None and link.inbound is not None
        carried = link.outbound.carried + link.inbound.carried
    assert len(emulator.printed) == 1
    assert carried > card_printer_emulator.PANEL_LINES * card_printer_emulator.PANEL_DOTS // 8
    assert clock.total == pytest.approx(carried * 10 / 115200 + card_printer_emulator.PRINT_SECONDS)


def test_a_slip_costs_its_raster_at_19200() -> None:
    clock = RecordingClock()
    with (
        ReceiptPrinterEmulator(timing=clock.timing()) as emulator,
        EscPosPrinter(port=emulator.port) as printer,
    ):
        printer.print_image(Image.new("1", (384, 64), 0), timeout=WAIT)
        link = emulator._link
        assert link.outbound is not None and link.inbound is not None
        carried = link.outbound.carried + link.inbound.carried
    assert carried > 384 // 8 * 64
    assert clock.total == pytest.approx(carried * 10 / 19200)


def test_pen_frames_cross_the_pads_8o1_line() -> None:
    clock = RecordingClock()
    strokes = [[(100 + i, 200) for i in range(30)]]
    with (
        SignaturePadEmulator(speed=50.0, timing=clock.timing()) as emulator,
        TopazPad(port=emulator.port) as pad,
    ):
        emulator.sign(strokes, delay=0.1)
        signature = pad.capture(timeout=WAIT, settle=0.2)
        assert emulator.wait(WAIT)
    assert len(signature.strokes[0]) == 30
    assert clock.total == pytest.approx(emulator.sent_frames * 5 * 11 / 19200)


def test_a_still_takes_the_cameras_frame_time() -> None:
    clock = RecordingClock()
    camera = wired.TimedCamera(lambda: 7, timing=clock.timing())
    camera.capture(timeout=WAIT)
    assert clock.delays == [wired.CAMERA_STILL_SECONDS]
