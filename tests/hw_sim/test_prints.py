"""The simulated printers keep their latest prints, not a whole day's (the kit's memory)."""

from __future__ import annotations

from PIL import Image

from hal.receipt_printer import EscPosPrinter
from hw_sim.prints import KEPT_PRINTS, kept_prints
from hw_sim.receipt_printer_emulator import ReceiptPrinterEmulator


def slip(number: int) -> Image.Image:
    image = Image.new("1", (384, 8), 1)
    image.putpixel((number, 0), 0)  # each slip has its own dot
    return image


def test_a_printer_keeps_only_its_last_prints_in_order() -> None:
    with ReceiptPrinterEmulator() as emulator, EscPosPrinter(port=emulator.port) as printer:
        for number in range(KEPT_PRINTS + 3):
            printer.print_image(slip(number), timeout=5.0)
        kept = list(emulator.printed)
    assert len(kept) == KEPT_PRINTS
    first, last = kept[0], kept[-1]
    assert first.getpixel((3, 0)) == 0  # slips 0..2 were forgotten
    assert last.getpixel((KEPT_PRINTS + 2, 0)) == 0


def test_adding_many_prints_at_once_keeps_the_count_and_the_bound() -> None:
    prints = kept_prints()
    prints += [slip(n) for n in range(KEPT_PRINTS + 5)]
    prints.extend([slip(0)])
    assert prints.total == KEPT_PRINTS + 6 and len(prints) == KEPT_PRINTS
