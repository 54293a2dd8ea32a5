"""The receipt slip: masked NIK, width for a 58 mm printer, a QR code of the reference,
every word in Bahasa Indonesia, and a training kit's LATIHAN mark.

No QR decoder is a dependency, so the QR region of the slip is compared module by module
with segno's own matrix of the reference, scaled as segno scales it.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageChops

from capture import paper_texts
from capture.print_plan import SlipReason
from capture.slip import QR_BORDER, QR_ERROR, SLIP_WIDTH, mask_nik, render_slip

ARGS = {
    "name": "Siti Nur'aini",
    "nik": "3505125708900003",
    "record_seq": 123,
    "kit_id": "KIT-BLT-07",
    "when": datetime(2024, 5, 2, 10, 31),
    "reference": "JMP-KIT-BLT-07-000123",
    "collect_at": "Kantor Dinas Dukcapil Kabupaten Blitar, Jl. Semeru No. 40",
    "reason": SlipReason.NO_BLANK_CARDS,
}


def test_mask_nik_shows_only_the_last_four_digits() -> None:
    assert mask_nik("3505125708901234") == "************1234"
    assert mask_nik(" 3505125708901234\n") == "************1234"
    assert mask_nik("1234") == "****"
    assert mask_nik("") == ""


@given(st.text(alphabet="0123456789", min_size=5, max_size=20))
def test_mask_nik_keeps_length_and_hides_all_but_four(nik: str) -> None:
    masked = mask_nik(nik)
    assert len(masked) == len(nik)
    assert masked[-4:] == nik[-4:]
    assert set(masked[:-4]) == {"*"}


@pytest.mark.parametrize("training", [False, True])
def test_slip_is_one_bit_and_384_dots_wide(training: bool) -> None:
    slip = render_slip(**ARGS, training=training)
    assert slip.mode == "1"
    assert slip.width == SLIP_WIDTH
    assert slip.height > slip.info["qr_box"][3]


@pytest.mark.parametrize(
    "reference", ["JMP-KIT-BLT-07-000123", "A", "https://dukcapil.example/r/KIT-PLG-01/000042"]
)
def test_qr_region_is_segnos_matrix_of_the_reference(reference: str) -> None:
    slip = render_slip(**{**ARGS, "reference": reference})
    left, top, right, bottom = slip.info["qr_box"]
    assert right - left == bottom - top
    code = segno.make(reference, error=QR_ERROR, micro=False)
    modules = code.symbol_size(scale=1, border=QR_BORDER)[0]
    scale, rest = divmod(right - left, modules)
    assert rest == 0 and scale >= 2
    expected = Image.new("1", (right - left, bottom - top), 1)
    for y, row in enumerate(code.matrix_iter(scale=scale, border=QR_BORDER)):
        for x, dark in enumerate(row):
            if dark:
                expected.putpixel((x, y), 0)
    region = slip.crop((left, top, right, bottom))
    assert ImageChops.difference(region.convert("L"), expected.convert("L")).getbbox() is None
    assert (left + right) // 2 in range(SLIP_WIDTH // 2 - 1, SLIP_WIDTH // 2 + 2)


def test_different_references_give_different_qr_codes() -> None:
    first = render_slip(**ARGS)
    second = render_slip(**{**ARGS, "reference": "JMP-KIT-BLT-07-000124"})
    box = first.info["qr_box"]
    assert ImageChops.difference(first.crop(box), second.crop(box)).getbbox() is not None


def test_every_slip_reason_has_its_own_words_on_the_paper() -> None:
    """Each reason has a why and a what-next in the catalogue, and each prints differently."""
    assert set(paper_texts.SLIP_REASONS) == set(SlipReason)
    slips = {reason: render_slip(**{**ARGS, "reason": reason}) for reason in SlipReason}
    shown = {slip.tobytes() for slip in slips.values()}
    assert len(shown) == len(SlipReason)


#: Words of English that a slip used to carry ("walk-in: data to verify", "printer: jam").
ENGLISH = {"the", "to", "at", "of", "for", "no", "card", "printed", "printer", "print", "walk"}
ENGLISH |= {"waits", "failed", "office", "home", "birthday", "receipt", "keep", "collect"}


def _paper_words() -> list[str]:
    """Every word of every text in the paper catalogue (its upper-case names)."""
    texts: list[str] = []

    def take(value: object) -> None:
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                take(item)
        elif isinstance(value, tuple):  # a ReasonText too
            for item in value:
                take(item)

    for name, value in vars(paper_texts).items():
        if name.isupper():
            take(value)
    return [word for text in texts for word in re.findall(r"[a-z]+", text.lower())]


def test_no_english_reaches_the_paper() -> None:
    words = _paper_words()
    assert "disdukcapil" in words, "the catalogue is read"
    assert not ENGLISH & set(words), sorted(ENGLISH & set(words))


def test_a_walk_in_is_told_what_the_office_will_do() -> None:
    why, then = paper_texts.SLIP_REASONS[SlipReason.WALK_IN]
    assert "diverifikasi" in why
    assert then.startswith("Disdukcapil") and "mencetak kartu" in then


def _inked_rows(image: Image.Image, top: int, bottom: int) -> float:
    """The share of ink (0) among the pixels of rows ``top`` to ``bottom``."""
    band = image.crop((0, top, image.width, bottom))
    histogram = band.convert("L").histogram()
    return histogram[0] / (band.width * band.height)


def test_a_training_slip_carries_the_latihan_mark_and_a_real_one_does_not() -> None:
    real = render_slip(**ARGS)
    training = render_slip(**ARGS, training=True)
    assert _inked_rows(real, 0, 4) == 0 and _inked_rows(real, real.height - 4, real.height) == 0
    # inked bands at both ends, so either half of a torn slip shows it
    assert _inked_rows(training, 0, 4) == 1
    assert _inked_rows(training, training.height - 4, training.height) == 1
    # the slanted word across the body: ink where the real slip's margin is paper
    margin = (SLIP_WIDTH - 6, 0, SLIP_WIDTH, real.height)
    assert ImageChops.invert(real.crop(margin).convert("L")).getbbox() is None
    assert ImageChops.invert(training.crop(margin).convert("L")).getbbox() is not None
    # and the QR code stays the one the office scans
    real_qr = real.crop(real.info["qr_box"])
    assert ImageChops.difference(training.crop(training.info["qr_box"]), real_qr).getbbox() is None


def test_the_full_nik_never_reaches_the_paper() -> None:
    """A slip for another NIK with the same last four digits prints the same pixels."""
    one = render_slip(**ARGS)
    other = render_slip(**{**ARGS, "nik": "1671019999990003"})
    assert ImageChops.difference(one, other).getbbox() is None


def test_longer_texts_make_a_taller_slip() -> None:
    short = render_slip(**ARGS)
    long = render_slip(**{**ARGS, "collect_at": ARGS["collect_at"] * 3})
    assert long.width == SLIP_WIDTH
    assert long.height > short.height


@pytest.mark.parametrize("length", [3300, 5000])  # version 40 at scale 1; beyond any QR
def test_a_reference_too_long_for_the_paper_is_refused(length: int) -> None:
    with pytest.raises(ValueError, match="shorter record reference"):
        render_slip(**{**ARGS, "reference": "X" * length})


def test_a_slip_says_when_the_data_was_confirmed_with_a_companion() -> None:
    """One more item, and only then: a companion's slip is taller, by the item's lines."""
    plain, with_companion = render_slip(**ARGS), render_slip(**ARGS, companion=True)
    assert with_companion.height > plain.height
    assert "pendamping" in paper_texts.SLIP_COMPANION
    assert paper_texts.SLIP_LABELS["companion"] == "Data dikonfirmasi"
