"""Each serial driver against its emulator when the wire misbehaves mid-exchange.

Cables pulled in the middle of a transfer (image upload, card panel, receipt raster,
pen stroke) must end the call with a typed error within its timeout and leave the
driver usable once the device is back; noise before an answer must resync or raise a
ProtocolError; every error the device reports must arrive as its own exception class.
Where an emulator cannot be made to report an error, a scripted peer on a pty does.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

import pytest
from PIL import Image, ImageChops, ImageDraw

from hal import exc
from hal.card_printer import CARD_HEIGHT, CARD_WIDTH, EvolisPrinter
from hal.fingerprint import R30xSensor
from hal.r30x import (
    CODE_ERRORS,
    IMG2TZ,
    PID_ACK,
    READ_SYS_PARA,
    SYS_PARA_FORMAT,
    UP_CHAR,
    UP_IMAGE,
    VFY_PWD,
    PacketReader,
    encode_packet,
)
from hal.receipt_printer import EscPosPrinter
from hal.signature_pad import TopazPad
from hal.types import FingerPosition, PenPoint, PrinterState, SensorModel
from hw_sim.card_printer_emulator import CardPrinterEmulator
from hw_sim.fingerprint_emulator import FingerprintEmulator
from hw_sim.fingers import Finger
from hw_sim.link import PtyLink
from hw_sim.receipt_printer_emulator import ReceiptPrinterEmulator
from hw_sim.signature_pad_emulator import SignaturePadEmulator

#: Every driver's read timeout here: short, since each fault test waits it out once.
READ_TIMEOUT = 0.3
ALICE = Finger(person_seed=11, position=2)
#: Bytes of one full image upload: 256 x 288 4-bit pixels in 128-byte data packets.
IMAGE_BYTES = 256 * 288 // 2
#: The data packet size the driver's handshake sets (the largest).
PACKET_BYTES = 256
IMAGE_PACKETS = IMAGE_BYTES // PACKET_BYTES
PACKET_OVERHEAD = 11


class Peer:
    """A scripted device on a pty: ``answer(chunk)`` gives the reply to each write."""

    def __init__(self, answer: Callable[[bytes], bytes]) -> None:
        self._answer = answer
        self.link = PtyLink(self._on_bytes, name="peer")
        self.port = self.link.port

    def _on_bytes(self, chunk: bytes) -> None:
        reply = self._answer(chunk)
        if reply:
            self.link.send(reply)


@pytest.fixture
def peer() -> Iterator[Callable[[Callable[[bytes], bytes]], Peer]]:
    started: list[Peer] = []

    def start(answer: Callable[[bytes], bytes]) -> Peer:
        started.append(Peer(answer))
        return started[-1]

    yield start
    for each in started:
        each.link.close()


# -- fingerprint sensor ----------------------------------------------------------------


@pytest.fixture
def fp_emulator() -> Iterator[FingerprintEmulator]:
    with FingerprintEmulator() as emulator:
        yield emulator


@pytest.fixture
def sensor(fp_emulator: FingerprintEmulator) -> Iterator[R30xSensor]:
    with R30xSensor(port=fp_emulator.port, read_timeout=READ_TIMEOUT) as driver:
        yield driver


def ack_then_data(packets: int, extra: int) -> int:
    """Bytes of GenImg's and UpImage's acks, ``packets`` data packets and ``extra`` more."""
    ack = PACKET_OVERHEAD + 1
    return 2 * ack + packets * (PACKET_OVERHEAD + PACKET_BYTES) + extra


@pytest.mark.parametrize(
    ("cut", "where"),
    [
        (5, "inside GenImg's acknowledge"),
        (ack_then_data(0, 40), "inside the first image packet"),
        (ack_then_data(IMAGE_PACKETS // 2, 0), "between two image packets"),
        (ack_then_data(IMAGE_PACKETS - 1, 100), "inside the last image packet"),
        (ack_then_data(IMAGE_PACKETS, PACKET_OVERHEAD + 1 + 30), "inside the template"),
    ],
)
def test_fingerprint_unplugged_mid_upload_fails_typed_then_recovers(
    fp_emulator: FingerprintEmulator, sensor: R30xSensor, cut: int, where: str
) -> None:
    fp_emulator.place(ALICE)
    fp_emulator.unplug_after(cut)
    with pytest.raises((exc.DeviceTimeout, exc.DeviceAbsent), match=fp_emulator.port):
        sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=1.0)
        sensor.upload_image(FingerPosition.RIGHT_INDEX)
    assert "unplugged" in fp_emulator.faults, where
    fp_emulator.clear_faults()
    sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=1.0)
    image = sensor.upload_image(FingerPosition.RIGHT_INDEX)
    assert len(image.pixels) == 256 * 288
    assert image.template
    assert [i for i, _ in fp_emulator.received][-3:] == [UP_IMAGE, IMG2TZ, UP_CHAR]


def test_fingerprint_unplugged_mid_template_upload_names_upchar(
    fp_emulator: FingerprintEmulator, sensor: R30xSensor
) -> None:
    fp_emulator.place(ALICE)
    fp_emulator.unplug_after(ack_then_data(IMAGE_PACKETS, 2 * (PACKET_OVERHEAD + 1) + 50))
    sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=1.0)
    with pytest.raises((exc.DeviceTimeout, exc.DeviceAbsent), match="UpChar"):
        sensor.upload_image(FingerPosition.RIGHT_INDEX)
    assert fp_emulator.received[-1][0] == UP_CHAR


def test_fingerprint_garbage_before_an_answer_is_skipped(
    fp_emulator: FingerprintEmulator, sensor: R30xSensor
) -> None:
    fp_emulator.inject("garbage")
    assert sensor.library_count() == 0
    assert "garbage" not in fp_emulator.faults  # it was sent, and the reader skipped it
    fp_emulator.place(ALICE)
    fp_emulator.inject("garbage")
    sensor.take_image(FingerPosition.RIGHT_INDEX, timeout=1.0)
    assert sensor.upload_image(FingerPosition.RIGHT_INDEX).template


def fingerprint_peer(code: int) -> Callable[[bytes], bytes]:
    """A sensor that shakes hands properly and answers everything else with ``code``."""
    reader = PacketReader()
    library = SensorModel.R307.library_pages  # the driver's default model's
    # packets of 256 bytes already (code 3, kept in flash): the handshake sets nothing
    para = struct.pack(SYS_PARA_FORMAT, 0, 0, library, 3, 0xFFFFFFFF, 3, 6)

    def answer(chunk: bytes) -> bytes:
        replies = b""
        for packet in reader.feed(chunk):
            if packet.payload[:1] == bytes([VFY_PWD]):
                replies += encode_packet(PID_ACK, b"\x00")
            elif packet.payload[:1] == bytes([READ_SYS_PARA]):
                replies += encode_packet(PID_ACK, b"\x00" + para)
            else:
                replies += encode_packet(PID_ACK, bytes([code]) + b"\x00\x00")
        return replies

    return answer


@pytest.mark.parametrize("code", [*sorted(CODE_ERRORS), 0x42, 0xFF])
def test_fingerprint_every_confirmation_code_is_its_typed_error(peer, code: int) -> None:
    device = peer(fingerprint_peer(code))
    expected = CODE_ERRORS.get(code, (exc.FingerprintError,))[0]
    with R30xSensor(port=device.port, fast_baudrate=None, read_timeout=READ_TIMEOUT) as sensor:
        with pytest.raises(expected, match=rf"0x{code:02X}\) during TemplateNum") as caught:
            sensor.library_count()
        assert type(caught.value) is expected
        assert device.port in str(caught.value)
        assert caught.value.device == "fingerprint"


def test_fingerprint_bad_header_before_an_answer_is_a_frame_error_then_resyncs(peer) -> None:
    answers = fingerprint_peer(0x00)
    noisy = {"left": 1}

    def answer(chunk: bytes) -> bytes:
        reply = answers(chunk)
        if reply.startswith(encode_packet(PID_ACK, b"\x00\x00\x00")) and noisy["left"]:
            noisy["left"] -= 1
            reply = b"\xef\x01\x12\x34\x56\x78\x07\x00\x03" + reply  # wrong address
        return reply

    device = peer(answer)
    with R30xSensor(port=device.port, fast_baudrate=None, read_timeout=READ_TIMEOUT) as sensor:
        with pytest.raises(exc.FrameError, match="address 0x12345678"):
            sensor.library_count()
        assert sensor.library_count() == 0


# -- card printer ----------------------------------------------------------------------


def card_front() -> Image.Image:
    card = Image.new("L", (CARD_WIDTH, CARD_HEIGHT), 255)
    ImageDraw.Draw(card).rectangle((100, 100, 500, 300), fill=0)
    return card


@pytest.fixture
def card_emulator() -> Iterator[CardPrinterEmulator]:
    with CardPrinterEmulator(hopper=5) as emulator:
        yield emulator


@pytest.fixture
def card_printer(card_emulator: CardPrinterEmulator) -> Iterator[EvolisPrinter]:
    with EvolisPrinter(port=card_emulator.port, reply_timeout=READ_TIMEOUT) as printer:
        yield printer


@pytest.mark.parametrize("cut", [2, 20, 40_000, 82_300])
def test_card_printer_unplugged_mid_panel_times_out_then_prints(
    card_emulator: CardPrinterEmulator, card_printer: EvolisPrinter, cut: int
) -> None:
    card_emulator.unplug_after(cut)
    with pytest.raises(exc.DeviceTimeout, match=card_emulator.port):
        card_printer.print_card(card_front(), timeout=1.0)
    assert card_emulator.hopper == 5  # no card was fed
    assert card_emulator.printed == []
    card_emulator.clear_faults()
    assert card_printer.status().state is PrinterState.READY
    card_printer.print_card(card_front(), timeout=2.0)
    assert card_emulator.hopper == 4
    assert len(card_emulator.printed) == 1
    assert card_emulator.printed[0].getpixel((300, 200)) == 0


def test_card_printer_garbage_before_an_answer_is_a_protocol_error_then_resyncs(
    card_emulator: CardPrinterEmulator, card_printer: EvolisPrinter
) -> None:
    card_emulator.inject("garbage")
    with pytest.raises(exc.ProtocolError, match=card_emulator.port):
        card_printer.status()
    assert card_printer.status().state is PrinterState.READY
    card_emulator.inject("garbage")
    with pytest.raises(exc.ProtocolError):
        card_printer.print_card(card_front(), timeout=2.0)
    card_printer.print_card(card_front(), timeout=2.0)
    assert len(card_emulator.printed) == 1


def card_peer(reply_to_sequence: bytes) -> Callable[[bytes], bytes]:
    """A printer that is READY, then answers ``Ss`` (the job's start) with a reply."""

    def answer(chunk: bytes) -> bytes:
        if chunk.startswith(b"\x1bXst\r"):
            return b"READY\r"
        if chunk.startswith(b"\x1bSs\r"):
            return reply_to_sequence
        return b"OK\r"

    return answer


@pytest.mark.parametrize(
    ("reply", "error", "words"),
    [
        (b"ERR;NO_CARD\r", exc.OutOfCards, "load cards"),
        (b"ERR;COVER_OPEN\r", exc.CoverOpen, "close it"),
        (b"ERR;RIBBON_OUT\r", exc.RibbonOut, "replace the ribbon"),
        (b"ERR;JAM\r", exc.CardJam, "remove the card"),
        (b"ERR;OVERHEATED\r", exc.PrinterError, "refused Ss: OVERHEATED"),
        (b"BUSY\r", exc.ProtocolError, "answered Ss with 'BUSY'"),
        (b"\xffOK\r", exc.ProtocolError, "non-text bytes"),
    ],
)
def test_card_printer_reported_errors_are_typed(
    peer, reply: bytes, error: type[exc.DeviceError], words: str
) -> None:
    device = peer(card_peer(reply))
    with (
        EvolisPrinter(port=device.port, reply_timeout=READ_TIMEOUT) as printer,
        pytest.raises(error, match=words) as caught,
    ):
        printer.print_card(card_front(), timeout=2.0)
    assert type(caught.value) is error
    assert device.port in str(caught.value)


def test_card_printer_endless_answer_is_a_protocol_error(peer) -> None:
    device = peer(lambda chunk: b"R" * 300)
    with (
        EvolisPrinter(port=device.port, reply_timeout=READ_TIMEOUT) as printer,
        pytest.raises(exc.ProtocolError, match="without a CR"),
    ):
        printer.status()


# -- receipt printer -------------------------------------------------------------------


def receipt_slip() -> Image.Image:
    slip = Image.new("1", (384, 300), 1)
    ImageDraw.Draw(slip).rectangle((10, 10, 370, 290), outline=0, width=4)
    return slip


@pytest.fixture
def receipt_emulator() -> Iterator[ReceiptPrinterEmulator]:
    with ReceiptPrinterEmulator() as emulator:
        yield emulator


@pytest.fixture
def receipt_printer(receipt_emulator: ReceiptPrinterEmulator) -> Iterator[EscPosPrinter]:
    with EscPosPrinter(port=receipt_emulator.port) as printer:
        yield printer


#: Small bands, so a band the printer never takes times out soon (its wait is its bytes'
#: time on the line at 19200 baud, with a margin).
SMALL_BAND_ROWS = 16
#: Bytes of the three status queries, and of one small band with its queries after it.
QUERIES = 9
SMALL_BAND = 8 + 48 * SMALL_BAND_ROWS + QUERIES


@pytest.mark.parametrize("cut", [1, QUERIES + 2 + 300, QUERIES + 2 + 3 * SMALL_BAND + 100])
def test_receipt_printer_unplugged_mid_raster_times_out_then_prints(
    receipt_emulator: ReceiptPrinterEmulator, cut: int
) -> None:
    receipt_emulator.unplug_after(cut)
    with EscPosPrinter(port=receipt_emulator.port, band_rows=SMALL_BAND_ROWS) as receipt_printer:
        with pytest.raises(exc.DeviceTimeout, match=r"did not (answer|take band \d+ of 19)"):
            receipt_printer.print_image(receipt_slip(), timeout=5.0)
        assert receipt_emulator.printed == []
        receipt_emulator.clear_faults()
        receipt_printer.print_image(receipt_slip(), timeout=5.0)
    assert len(receipt_emulator.printed) == 1
    printed = receipt_emulator.printed[0].convert("L")
    assert ImageChops.difference(printed, receipt_slip().convert("L")).getbbox() is None


def test_receipt_printer_garbage_before_a_status_is_a_frame_error_then_resyncs(
    receipt_emulator: ReceiptPrinterEmulator, receipt_printer: EscPosPrinter
) -> None:
    receipt_emulator.inject("garbage")
    with pytest.raises(exc.FrameError, match="not a status byte"):
        receipt_printer.status()
    assert receipt_printer.status().state is PrinterState.READY


def receipt_peer(answers: dict[int, int]) -> Callable[[bytes], bytes]:
    """A printer answering DLE EOT n with ``answers[n]`` (0x12, all quiet, otherwise).

    A query ends the driver's write (it waits for the answer), though the pty may hand
    it over joined to the job before it.
    """

    def answer(chunk: bytes) -> bytes:
        if chunk[-3:-1] == b"\x10\x04":
            return bytes((answers.get(chunk[-1], 0x12),))
        return b""

    return answer


@pytest.mark.parametrize(
    ("answers", "error", "words"),
    [
        ({2: 0x12 | 0x04}, exc.CoverOpen, "cover open"),
        ({4: 0x12 | 0x60}, exc.PaperOut, "out of paper"),
        ({2: 0x12 | 0x20}, exc.PaperOut, "out of paper"),
        ({2: 0x12 | 0x40}, exc.DeviceBusy, "error: switch the printer off and on"),
        ({1: 0x12 | 0x08}, exc.DeviceBusy, "offline"),
    ],
)
def test_receipt_printer_reported_states_are_typed(
    peer, answers: dict[int, int], error: type[exc.DeviceError], words: str
) -> None:
    device = peer(receipt_peer(answers))
    with (
        EscPosPrinter(port=device.port) as printer,
        pytest.raises(error, match=words) as caught,
    ):
        printer.print_image(receipt_slip(), timeout=2.0)
    assert type(caught.value) is error
    assert device.port in str(caught.value)


def test_receipt_printer_paper_near_end_still_prints(peer) -> None:
    device = peer(receipt_peer({4: 0x12 | 0x0C}))
    with EscPosPrinter(port=device.port) as printer:
        status = printer.status()
        printer.print_image(receipt_slip(), timeout=2.0)
    assert (status.state, status.detail) == (PrinterState.READY, "paper near end")


# -- signature pad ---------------------------------------------------------------------

#: Head start the driver gets before the pen comes down (it discards older input).
LEAD = 0.1
SETTLE = 0.2
STROKES = [[(100 + 10 * i, 300 + i) for i in range(30)], [(700, 200 + 12 * i) for i in range(25)]]


@pytest.fixture
def pad_emulator() -> Iterator[SignaturePadEmulator]:
    with SignaturePadEmulator(speed=50.0) as emulator:
        yield emulator


@pytest.fixture
def pad(pad_emulator: SignaturePadEmulator) -> Iterator[TopazPad]:
    with TopazPad(port=pad_emulator.port) as driver:
        yield driver


def test_pad_unplugged_mid_frame_of_a_stroke_times_out_then_resyncs(
    pad_emulator: SignaturePadEmulator, pad: TopazPad
) -> None:
    long_stroke = [(10 + i % 2000, 10) for i in range(5_000)]  # 1 s of pen down at speed 50
    pad_emulator.unplug_after(5 * 40 + 2)  # 40 frames, then two bytes of the 41st
    pad_emulator.sign([long_stroke], delay=LEAD)
    with pytest.raises(exc.DeviceTimeout, match="still on the signature pad"):
        pad.capture(timeout=0.5, settle=SETTLE)
    assert pad_emulator.sent_frames == 40
    assert pad.decoder.invalid_frames == 0  # the half frame is still pending
    pad_emulator.clear_faults()
    pad_emulator.sign(STROKES, delay=LEAD)
    signature = pad.capture(timeout=5.0, settle=SETTLE)
    expected = tuple(tuple(PenPoint(x, y) for x, y in stroke) for stroke in STROKES)
    assert signature.strokes == expected
    assert pad.decoder.invalid_frames == 1  # the half frame, cut short by the next sync


def test_pad_unplugged_mid_stroke_for_good_is_a_timeout_each_time(
    pad_emulator: SignaturePadEmulator, pad: TopazPad
) -> None:
    pad_emulator.unplug_after(5 * 10)
    pad_emulator.sign([[(500, 500)] * 1000], delay=LEAD)
    with pytest.raises(exc.DeviceTimeout):
        pad.capture(timeout=0.4, settle=SETTLE)
    with pytest.raises(exc.NoSignature, match="sent nothing at all"):
        pad.capture(timeout=0.3, settle=SETTLE)


def test_emulators_refuse_a_negative_cut() -> None:
    with ReceiptPrinterEmulator() as emulator, pytest.raises(ValueError, match="0 or more"):
        emulator.unplug_after(-1)
