"""The card printer driver against its emulator, over a pty: what is sent is what prints."""

from __future__ import annotations

import random

import pytest
import serial
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from hal.card_printer import (
    CARD_HEIGHT,
    CARD_WIDTH,
    LINE_BYTES,
    PANEL_BYTES,
    EvolisPrinter,
    from_panel,
    to_panel,
)
from hal.contracts import CardPrinter
from hal.exc import (
    CardJam,
    CoverOpen,
    DeviceAbsent,
    DeviceTimeout,
    OutOfCards,
    RibbonOut,
)
from hal.types import PrinterState
from hw_sim.card_printer_emulator import CardPrinterEmulator

TIMEOUT = 5.0


@pytest.fixture
def emulator(tmp_path):
    with CardPrinterEmulator(hopper=10, out_dir=tmp_path / "cards") as emu:
        yield emu


@pytest.fixture
def printer(emulator):
    with EvolisPrinter(port=emulator.port, reply_timeout=1.0) as driver:
        yield driver


def _test_card() -> Image.Image:
    """A card front like capture/ draws: text lines and a photo-like gradient portrait."""
    card = Image.new("RGB", (CARD_WIDTH, CARD_HEIGHT), "white")
    draw = ImageDraw.Draw(card)
    for row, text in enumerate(("PROVINSI SUMATERA SELATAN", "NIK 1671014512900001", "Nama")):
        draw.text((40, 40 + 40 * row), text, fill="black")
    photo = Image.linear_gradient("L").resize((260, 340)).convert("RGB")
    card.paste(photo, (720, 150))
    draw.ellipse((780, 200, 920, 380), fill=(180, 120, 90))
    return card


def _card_with_dot(x: int, y: int) -> Image.Image:
    card = Image.new("1", (CARD_WIDTH, CARD_HEIGHT), 1)
    card.putpixel((x, y), 0)
    return card


def test_driver_satisfies_the_contract(printer):
    assert isinstance(printer, CardPrinter)


def test_printed_card_is_the_dithered_front_and_uses_one_card(emulator, printer, tmp_path):
    front = _test_card()

    printer.print_card(front, timeout=TIMEOUT)

    assert emulator.hopper == 9
    (printed,) = emulator.printed
    dithered = front.convert("L").convert("1")
    assert printed.size == (CARD_WIDTH, CARD_HEIGHT)
    assert printed.tobytes() == dithered.tobytes()
    assert printed.tobytes() == from_panel(to_panel(front)).tobytes()
    assert 0 < printed.histogram()[0] < CARD_WIDTH * CARD_HEIGHT // 2  # text and photo, not blank
    assert [r.command for r in emulator.received] == ["Xst", "Ss", "Db", "Se", "Xpe"]
    download = emulator.received[2]
    assert download.args == ("k", "2")
    assert download.payload == to_panel(front)
    saved = Image.open(tmp_path / "cards" / "card-0001.png")
    assert saved.convert("1").tobytes() == dithered.tobytes()


def test_panel_lines_are_card_columns_msb_first_set_bit_black(emulator, printer):
    panel = to_panel(_card_with_dot(3, 5))

    # line 3, dot 642 counted from the bottom edge: byte 80 of the line, third bit
    assert len(panel) == PANEL_BYTES == 82_296
    assert {i: b for i, b in enumerate(panel) if b} == {3 * LINE_BYTES + 80: 0b0010_0000}

    printer.print_card(_card_with_dot(3, 5), timeout=TIMEOUT)
    black = [
        (x, y)
        for y in range(CARD_HEIGHT)
        for x in range(CARD_WIDTH)
        if emulator.printed[0].getpixel((x, y)) == 0
    ]
    assert black == [(3, 5)]


def test_panel_data_holding_esc_and_cr_bytes_is_framed_by_length(emulator, printer):
    front = from_panel(bytes([0x1B, 0x0D]) * (PANEL_BYTES // 2))

    printer.print_card(front, timeout=TIMEOUT)
    printer.print_card(front, timeout=TIMEOUT)

    assert [card.tobytes() for card in emulator.printed] == [front.tobytes()] * 2
    assert emulator.hopper == 8


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_panel_round_trips_any_one_bit_card(seed):
    data = random.Random(seed).randbytes(CARD_WIDTH * CARD_HEIGHT // 8)
    card = Image.frombytes("1", (CARD_WIDTH, CARD_HEIGHT), data)

    assert from_panel(to_panel(card)).tobytes() == card.tobytes()


@pytest.mark.parametrize("size", [(648, 1016), (1015, 648), (2032, 1296)])
def test_wrong_size_is_refused_before_anything_is_sent(emulator, printer, size):
    with pytest.raises(ValueError, match=rf"1016x648 .* got {size[0]}x{size[1]}"):
        printer.print_card(Image.new("L", size, 255), timeout=TIMEOUT)

    assert emulator.received == []
    assert emulator.hopper == 10


@pytest.mark.parametrize(
    ("fault", "state"),
    [
        (None, PrinterState.READY),
        ("out-of-cards", PrinterState.NO_MEDIA),
        ("cover-open", PrinterState.COVER_OPEN),
        ("ribbon-out", PrinterState.RIBBON_OUT),
    ],
)
def test_status_reports_each_state(emulator, printer, fault, state):
    if fault:
        emulator.inject(fault)

    status = printer.status()

    assert status.state is state
    assert status.ready is (state is PrinterState.READY)


@pytest.mark.parametrize(
    ("fault", "error", "hopper_after"),
    [
        ("out-of-cards", OutOfCards, 0),
        ("cover-open", CoverOpen, 10),
        ("ribbon-out", RibbonOut, 10),
    ],
)
def test_fault_before_feeding_raises_its_error_and_uses_no_card(
    emulator, printer, fault, error, hopper_after
):
    emulator.inject(fault)

    with pytest.raises(error, match=emulator.port):
        printer.print_card(_test_card(), timeout=TIMEOUT)

    assert emulator.hopper == hopper_after
    assert emulator.printed == []
    assert [r.command for r in emulator.received] == ["Xst"]


def test_jam_spoils_the_fed_card_and_holds_until_cleared(emulator, printer):
    emulator.inject("jam")
    assert printer.status().state is PrinterState.READY  # the jam happens while printing

    with pytest.raises(CardJam):
        printer.print_card(_test_card(), timeout=TIMEOUT)

    assert emulator.hopper == 9
    assert emulator.printed == []
    assert printer.status().state is PrinterState.JAM
    with pytest.raises(CardJam):
        printer.print_card(_test_card(), timeout=TIMEOUT)
    assert emulator.hopper == 9

    emulator.clear_faults()
    printer.print_card(_test_card(), timeout=TIMEOUT)
    assert emulator.hopper == 8
    assert len(emulator.printed) == 1


def test_loading_cards_after_running_out(emulator, printer):
    emulator.inject("out-of-cards")
    emulator.clear_faults()
    assert printer.status().state is PrinterState.NO_MEDIA

    emulator.load(2)
    printer.print_card(_test_card(), timeout=TIMEOUT)

    assert emulator.hopper == 1
    assert len(emulator.printed) == 1


def test_unplugged_printer_times_out(emulator):
    emulator.inject("unplugged")
    with EvolisPrinter(port=emulator.port, reply_timeout=0.2) as printer:
        with pytest.raises(DeviceTimeout, match=emulator.port):
            printer.print_card(_test_card(), timeout=0.2)
        with pytest.raises(DeviceTimeout, match=emulator.port):
            printer.status()
        with pytest.raises(DeviceAbsent, match=emulator.port):
            printer.probe()
    assert emulator.received == []
    assert emulator.hopper == 10


def test_probe_reads_model_and_firmware(emulator, printer):
    info = printer.probe()

    assert info.name == "card-printer"
    assert info.model == "Jemput CR80 emulator"
    assert info.detail == {"firmware": "1.0", "port": emulator.port}


def test_missing_port_is_device_absent_naming_it(tmp_path):
    port = str(tmp_path / "no-such-tty")
    with pytest.raises(DeviceAbsent, match="no-such-tty"):
        EvolisPrinter(port=port)


def test_close_is_safe_twice_and_a_closed_printer_says_so(emulator):
    printer = EvolisPrinter(port=emulator.port)
    printer.close()
    printer.close()
    with pytest.raises(DeviceAbsent, match="closed"):
        printer.status()


def test_emulator_rejects_unknown_fault_naming_the_valid_ones(emulator):
    with pytest.raises(ValueError, match=r"cover-open.*ribbon-out"):
        emulator.inject("on-fire")


def test_emulator_answers_protocol_errors_and_resyncs(emulator):
    with serial.Serial(emulator.port, 115200, timeout=2) as raw:
        raw.write(b"noise\x1bXx;1\r")
        assert raw.read_until(b"\r") == b"ERR;UNKNOWN_COMMAND Xx\r"
        raw.write(b"\x1bXpe\r")
        assert raw.read_until(b"\r") == b"ERR;NO_JOB\r"
        # one data byte short: the data's last byte is the CR, then ESC where CR belongs
        raw.write(b"\x1bSs\r\x1bDb;k;2;" + bytes(PANEL_BYTES - 1) + b"\r\x1bXst\r")
        assert raw.read_until(b"\r") == b"OK\r"
        assert raw.read_until(b"\r").startswith(b"ERR;BAD_LENGTH")
        assert raw.read_until(b"\r") == b"READY\r"
    assert emulator.hopper == 10
