"""The ESC/POS receipt printer driver against its pty emulator."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops, ImageDraw

from hal.exc import CoverOpen, DeviceAbsent, DeviceTimeout, PaperOut
from hal.receipt_printer import EscPosPrinter
from hal.types import PrinterState
from hw_sim.receipt_printer_emulator import Command, ReceiptPrinterEmulator


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
        Command("DLE EOT", (n,)) for n in (1, 2, 4, 1, 2, 4)
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
