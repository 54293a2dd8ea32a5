"""The ESC/POS receipt printer driver against its pty emulator."""

from __future__ import annotations

import time

import pytest
import serial
from PIL import Image, ImageChops, ImageDraw

from hal.exc import CoverOpen, DeviceAbsent, DeviceTimeout, PaperOut
from hal.receipt_printer import EscPosPrinter
from hal.types import PrinterState
from hw_sim.receipt_printer_emulator import (
    RECEIVE_BUFFER_BYTES,
    XOFF,
    XON,
    Command,
    ReceiptPrinterEmulator,
)
from hw_sim.timing import Timing

#: A narrow slip in 64-row bands: 1 KB a band, about half a second each at 19200 baud,
#: so the timed tests below take their line's time and not much more.
NARROW_DOTS = 128
NARROW_BAND_ROWS = 64


@pytest.fixture
def emulator():
    with ReceiptPrinterEmulator() as emu:
        yield emu


@pytest.fixture
def printer(emulator):
    with EscPosPrinter(port=emulator.port) as driver:
        yield driver


def slip(width: int = 384, height: int = 200) -> Image.Image:
    """A test slip: text and a box, in grey so the driver has to make it 1-bit."""
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, width - 5, height - 5), outline=0, width=3)
    draw.text((20, 20), "JEMPUT 1671 no. 000042", fill=0)
    draw.ellipse((200, 80, 300, 180), fill=128)  # dithered by the 1-bit conversion
    return image


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return (
        a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None
    )


def rasters(emulator: ReceiptPrinterEmulator) -> list[tuple[int, ...]]:
    return [command.args for command in emulator.received if command.name == "GS v 0"]


def test_printed_slip_equals_the_one_bit_input(emulator, printer) -> None:
    image = slip()
    printer.print_image(image, timeout=5.0)
    assert len(emulator.printed) == 1
    assert same_pixels(emulator.printed[0], image.convert("1"))
    assert emulator.received[-1] == Command("DLE EOT", (4,))  # status checked after the cut
    assert Command("GS V", (66, 0)) in emulator.received
    assert emulator.unknown == []


def test_narrow_image_lands_left_aligned_with_white_padding(emulator, printer) -> None:
    image = Image.new("1", (21, 10), 0)  # not a whole number of bytes wide
    printer.print_image(image, timeout=5.0)
    assert rasters(emulator) == [(0, 3, 10)]
    page = emulator.printed[0]
    assert page.size == (384, 10)
    assert same_pixels(page.crop((0, 0, 21, 10)), image)
    assert page.crop((21, 0, 384, 10)).getextrema() == (255, 255)


def test_tall_image_goes_in_bands(emulator, printer) -> None:
    image = slip(height=300)
    printer.print_image(image, timeout=5.0)
    assert rasters(emulator) == [(0, 48, 128), (0, 48, 128), (0, 48, 44)]
    assert same_pixels(emulator.printed[0], image.convert("1"))


def test_status_bytes_inside_raster_data_are_picture(emulator, printer) -> None:
    # Black bits 10 04 01 (DLE EOT 1) repeated across every row of the raster.
    row = bytes((0x10, 0x04, 0x01)) * 16
    inverted = bytes(0xFF - byte for byte in row * 8)  # Pillow's "1" stores 1 = white
    image = Image.frombytes("1", (384, 8), inverted)
    printer.print_image(image, timeout=5.0)
    assert same_pixels(emulator.printed[0], image)
    assert [c for c in emulator.received if c.name == "DLE EOT"] == [
        Command("DLE EOT", (n,))
        for n in (1, 2, 4) * 3  # before, after the band, after the cut
    ]


def test_status_ready(printer) -> None:
    status = printer.status()
    assert status.state is PrinterState.READY
    assert status.ready


def test_paper_out_raises_before_anything_is_printed(emulator, printer) -> None:
    emulator.inject("paper-out")
    assert printer.status().state is PrinterState.NO_MEDIA
    with pytest.raises(PaperOut, match="load a roll"):
        printer.print_image(slip(), timeout=5.0)
    assert rasters(emulator) == []
    assert emulator.printed == []


def test_cover_open_raises(emulator, printer) -> None:
    emulator.inject("cover-open")
    assert printer.status().state is PrinterState.COVER_OPEN
    with pytest.raises(CoverOpen, match="close it"):
        printer.print_image(slip(), timeout=5.0)
    assert emulator.printed == []
    emulator.clear_faults()
    printer.print_image(slip(), timeout=5.0)
    assert len(emulator.printed) == 1


def test_too_wide_image_is_refused(emulator, printer) -> None:
    with pytest.raises(ValueError, match=r"385 dots wide.*takes 384"):
        printer.print_image(Image.new("1", (385, 10), 1), timeout=5.0)
    assert emulator.received == []


def test_unplugged_printer_times_out(emulator, printer) -> None:
    emulator.inject("unplugged")
    with pytest.raises(DeviceTimeout, match="did not answer"):
        printer.status()
    with pytest.raises(DeviceTimeout):
        printer.print_image(slip(), timeout=5.0)
    with pytest.raises(DeviceAbsent, match="no receipt printer answers"):
        printer.probe()


def test_probe_and_close_twice(emulator, printer) -> None:
    info = printer.probe()
    assert info.detail["state"] == "ready"
    assert info.detail["port"] == emulator.port
    printer.close()
    printer.close()
    with pytest.raises(DeviceAbsent, match="closed"):
        printer.status()


def test_save_png_writes_one_file_per_job(emulator, printer, tmp_path) -> None:
    printer.print_image(slip(), timeout=5.0)
    printer.print_image(slip(height=50), timeout=5.0)
    paths = emulator.save_png(tmp_path)
    assert [p.name for p in paths] == ["receipt-001.png", "receipt-002.png"]
    assert Image.open(paths[1]).size == (384, 50)


def test_emulator_rejects_unknown_fault(emulator) -> None:
    with pytest.raises(ValueError, match="unplugged, paper-out, cover-open"):
        emulator.inject("fire")


# -- on the timed line (19200 baud kept, as on the kit) ---------------------------------


def test_a_slip_prints_on_the_timed_line_one_band_at_a_time() -> None:
    """Each band waits for the status answer queued behind the one before, so the
    driver never runs ahead of the line (issue 31: the slip failed, 2 of 2); and a slip
    is given its line's time even when the caller allowed less."""
    image = slip(width=NARROW_DOTS, height=3 * NARROW_BAND_ROWS)
    with (
        ReceiptPrinterEmulator(paper_dots=NARROW_DOTS, timing=Timing()) as emulator,
        EscPosPrinter(
            port=emulator.port, paper_dots=NARROW_DOTS, band_rows=NARROW_BAND_ROWS
        ) as printer,
    ):
        printer.print_image(image, timeout=1.0)  # its 3 KB take 1.6 s on the line
    assert same_pixels(emulator.printed[0], image.convert("1"))
    names = [command.name for command in emulator.received if command.name != "DLE EOT"]
    queries = [command.args for command in emulator.received if command.name == "DLE EOT"]
    assert names == ["ESC @", "GS v 0", "GS v 0", "GS v 0", "ESC d", "GS V"]
    assert len(queries) == 3 * (1 + 3 + 1)  # before, after each band, after the cut
    order = [command.name for command in emulator.received]
    bands = [i for i, name in enumerate(order) if name == "GS v 0"]
    assert all(order[i + 1] == "DLE EOT" for i in bands), "each band is answered for"


def test_a_stuck_printer_times_out_at_its_band_saying_so_then_prints_once_cleared() -> None:
    image = slip(width=NARROW_DOTS, height=NARROW_BAND_ROWS)
    with (
        ReceiptPrinterEmulator(paper_dots=NARROW_DOTS, timing=Timing()) as emulator,
        EscPosPrinter(
            port=emulator.port, paper_dots=NARROW_DOTS, band_rows=NARROW_BAND_ROWS
        ) as printer,
    ):
        emulator.inject("stuck")
        with pytest.raises(DeviceTimeout) as caught:
            printer.print_image(image, timeout=10.0)
        emulator.clear_faults()  # the technician switches it off and on
        printer.print_image(image, timeout=10.0)
    assert (
        "did not take band 1 of 1 (1,032 bytes, 0.5 s at 19200 baud) within 1.3 s: it holds "
        "the line off or has stopped (a paper jam or a stalled head)"
    ) in str(caught.value)
    assert emulator.port in str(caught.value)
    assert len(emulator.printed) == 1


def test_a_stuck_printer_holds_the_line_with_xoff_once_its_buffer_fills() -> None:
    """As a printer set to XON/XOFF: the sender's writes stop until it says XON."""
    band = b"\x1dv0\x00" + bytes((48, 0, 128, 0)) + bytes(48 * 128)  # GS v 0: 6 KB of raster
    with (
        ReceiptPrinterEmulator() as emulator,
        serial.Serial(emulator.port, 19200, xonxoff=True, write_timeout=10.0) as sender,
    ):
        emulator.inject("stuck")
        sender.write(band[:RECEIVE_BUFFER_BYTES])  # the buffer's worth, however busy the machine
        sender.write_timeout = 0.05  # from here a write that blocks is a write held off
        assert eventually(sender, held=True), "the sender was never held off"
        assert emulator.flow == [XOFF]
        emulator.clear_faults()
        assert emulator.flow == [XOFF, XON]
        assert eventually(sender, held=False), "XON did not let the sender go on"


def eventually(sender: serial.Serial, *, held: bool, seconds: float = 10.0) -> bool:
    """Whether a one-byte write comes to block (``held``) or to pass within ``seconds``:
    the flow control byte reaches the port a moment after the emulator sends it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            sender.write(b"\n")
        except serial.SerialTimeoutException:
            if held:
                return True
        else:
            if not held:
                return True
        time.sleep(0.01)
    return False
