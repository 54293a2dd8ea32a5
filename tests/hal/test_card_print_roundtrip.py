"""A rendered card front, printed by the real driver, comes out of the emulator as drawn.

Issue 7: "the printed card decoded by the printer emulator matches what was rendered".
The driver dithers the render to the black panel (:func:`hal.card_printer.to_panel`) and
sends it over the pty; the emulator decodes the panel with its own code into the card it
would lay down.  The two must agree pixel for pixel with the dithering of the render,
so neither side can turn, mirror or invert the card without this failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from capture.card import render_card_front
from hal.card_printer import EvolisPrinter
from hal.signature_pad import render_signature
from hal.types import PenPoint
from hw_sim.card_printer_emulator import CardPrinterEmulator
from hw_sim.portraits import SimCamera
from hw_sim.world import PAD_HEIGHT, PAD_WIDTH, Person, World
from simulator.kit import resident_of

WORLD = World(11, people=12, walk_ins=0, clock_speed=0.0)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[CardPrinterEmulator]:
    with CardPrinterEmulator(hopper=3, out_dir=tmp_path / "cards") as printer:
        yield printer


def front_of(person: Person) -> Image.Image:
    camera = SimCamera(lambda: person.seed)
    strokes = [[PenPoint(x, y) for x, y in stroke] for stroke in person.signature]
    return render_card_front(
        resident_of(person),
        photo_jpeg=camera.capture(timeout=5.0).jpeg,
        signature_png=render_signature(strokes, PAD_WIDTH, PAD_HEIGHT, (600, 225)),
        issued_place="BLITAR",
        issued_on=date(2026, 11, 23),
    )


def dithered(front: Image.Image) -> Image.Image:
    """The dithering the driver promises: grey, then Floyd-Steinberg to one bit."""
    return front.convert("L").convert("1", dither=Image.Dither.FLOYDSTEINBERG)


@pytest.mark.parametrize(
    "person",
    [WORLD.residents[0], max(WORLD.residents, key=lambda p: len(p.name))],
    ids=["first", "longest-name"],
)
def test_the_printed_card_is_the_dithered_render(
    emulator: CardPrinterEmulator, tmp_path: Path, person: Person
) -> None:
    front = front_of(person)
    with EvolisPrinter(port=emulator.port) as printer:
        printer.print_card(front, timeout=10.0)

    assert len(emulator.printed) == 1 and emulator.hopper == 2
    card = emulator.printed[0]
    expected = dithered(front)
    assert card.size == expected.size == (1016, 648)
    assert ImageChops.difference(card.convert("L"), expected.convert("L")).getbbox() is None
    # the PNG the emulator wrote is that same card
    with Image.open(tmp_path / "cards" / "card-0001.png") as saved:
        assert saved.convert("1").tobytes() == card.tobytes()


def test_a_mirrored_card_would_not_pass(emulator: CardPrinterEmulator) -> None:
    """The comparison can fail: the card turned round is not the render."""
    front = front_of(WORLD.residents[1])
    with EvolisPrinter(port=emulator.port) as printer:
        printer.print_card(front, timeout=10.0)
    turned = emulator.printed[0].transpose(Image.Transpose.ROTATE_180)
    assert ImageChops.difference(turned.convert("L"), dithered(front).convert("L")).getbbox()
