"""The receipt printer emulator prints text as a real ESC/POS printer does.

The job below is written by hand from python-escpos 3.1 (``constants.py``, ``escpos.py``):
what ``hw("INIT")``, ``set(...)``, ``set_with_default()``, ``text(...)`` (its encoder's
``ESC t``) and ``cut()`` send, so the emulator is checked against the bytes a client of
the real part sends, without that client as a dependency.
"""

from __future__ import annotations

import time

import serial
from PIL import Image

from hw_sim.escpos_paper import FONT_A
from hw_sim.receipt_printer_emulator import ReceiptPrinterEmulator

ESC, GS = b"\x1b", b"\x1d"
TXT_NORMAL = ESC + b"!\x00"
#: set(align="center", bold=True, double_width=True, double_height=True)
TITLE_STYLE = TXT_NORMAL + TXT_NORMAL + ESC + b"!\x30" + ESC + b"E\x01" + ESC + b"a\x01"
#: set_with_default(): normal size, no flip, no smoothing, not bold, no underline, font A,
#: left, not inverted
DEFAULT_STYLE = (
    TXT_NORMAL
    + TXT_NORMAL
    + ESC + b"{\x00"
    + GS + b"b\x00"
    + ESC + b"E\x00"
    + ESC + b"-\x00"
    + ESC + b"M\x00"
    + ESC + b"a\x00"
    + GS + b"B\x00"
)  # fmt: skip
#: text() through the encoder: it selects the code page (16, WPC1252) before the bytes
WPC1252 = ESC + b"t\x10"
#: cut(): print_and_feed(6), then a full cut
CUT = ESC + b"d\x06" + GS + b"V\x00"

JOB = (
    ESC + b"@"
    + TITLE_STYLE + WPC1252 + b"JEMPUT\n"
    + DEFAULT_STYLE + "Nomor 000042 café\n".encode("cp1252")
    + ESC + b"-\x01" + b"Simpan" + ESC + b"-\x00" + b"\n"
    + CUT
)  # fmt: skip
#: How long the emulator may take to print the job (a background thread's bound).
WAIT_SECONDS = 5.0


def print_job(job: bytes) -> tuple[ReceiptPrinterEmulator, Image.Image]:
    with (
        ReceiptPrinterEmulator() as emulator,
        serial.Serial(emulator.port, 19200, timeout=0) as client,
    ):
        client.write(job)
        deadline = time.monotonic() + WAIT_SECONDS
        while not emulator.printed:
            assert time.monotonic() < deadline, "the job was never printed"
            time.sleep(0.01)
        return emulator, emulator.printed[0]


def ink_box(image: Image.Image, top: int, bottom: int) -> tuple[int, int, int, int]:
    """The bounding box of the black dots between rows ``top`` and ``bottom``."""
    band = image.crop((0, top, image.width, bottom)).point(lambda v: 255 - v)
    box = band.getbbox()
    assert box is not None, f"no ink in rows {top}..{bottom}"
    return box


def test_text_as_python_escpos_sends_it_is_printed_in_the_modes_it_set() -> None:
    emulator, page = print_job(JOB)
    assert emulator.unknown == []
    assert emulator.lines == ["JEMPUT", "Nomor 000042 café", "Simpan"]  # é by WPC1252
    spacing = 34  # Epson's default line spacing at 203 dpi
    title = 2 * FONT_A.cell[1]  # double height: 48 dots, taller than the spacing
    # three lines, and the cut's six-line feed not drawn: the slip ends at its last line
    assert page.size == (384, title + 2 * spacing)
    left, _, right, bottom = ink_box(page, 0, title)
    assert abs(left - (384 - right)) <= FONT_A.cell[0] // 2, "the title is centred"
    assert bottom > FONT_A.cell[1], "the title is twice the height of a line"
    assert right - left > 2 * len("JEMPUT") * FONT_A.cell[0] - FONT_A.cell[0]
    body_left, _, body_right, _ = ink_box(page, title, title + spacing)
    assert body_left < FONT_A.cell[0] and body_right < 384 - FONT_A.cell[0]  # left, normal size
    # the underline runs under the whole word, on the cell's last row
    underline = title + spacing + FONT_A.cell[1] - 1
    row = [page.getpixel((x, underline)) for x in range(len("Simpan") * FONT_A.cell[0])]
    assert row == [0] * len(row)


def test_a_line_longer_than_the_paper_wraps() -> None:
    emulator, page = print_job(ESC + b"@" + b"x" * 40 + b"\n" + CUT)
    assert emulator.lines == ["x" * 32, "x" * 8]  # 32 Font A characters on 58 mm
    assert page.height == 2 * 34
