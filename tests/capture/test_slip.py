"""The receipt slip: masked NIK, width for a 58 mm printer, and a QR code of the reference.

No QR decoder is a dependency, so the QR region of the slip is compared module by module
with segno's own matrix of the reference, scaled as segno scales it.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageChops

from capture.slip import QR_BORDER, QR_ERROR, SLIP_WIDTH, mask_nik, render_slip

ARGS = {
    "name": "Siti Nur'aini",
    "nik": "3505125708900003",
    "record_seq": 123,
    "kit_id": "KIT-BLT-07",
    "when": datetime(2024, 5, 2, 10, 31),
    "reference": "JMP-KIT-BLT-07-000123",
    "collect_at": "Kantor Dinas Dukcapil Kabupaten Blitar, Jl. Semeru No. 40",
    "reason": "blangko habis",
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


@pytest.mark.parametrize("language", ["id", "en"])
def test_slip_is_one_bit_and_384_dots_wide(language: str) -> None:
    slip = render_slip(**ARGS, language=language)
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


def test_english_variant_differs_in_the_title() -> None:
    indonesian = render_slip(**ARGS)
    english = render_slip(**ARGS, language="en")
    title = (0, 0, SLIP_WIDTH, 40)
    assert ImageChops.difference(indonesian.crop(title), english.crop(title)).getbbox()
    # the QR code is the same in both languages
    qr_id = indonesian.crop(indonesian.info["qr_box"])
    qr_en = english.crop(english.info["qr_box"])
    assert ImageChops.difference(qr_id, qr_en).getbbox() is None


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


def test_unknown_language_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="id, en"):
        render_slip(**ARGS, language="jv")


@pytest.mark.parametrize("length", [3300, 5000])  # version 40 at scale 1; beyond any QR
def test_a_reference_too_long_for_the_paper_is_refused(length: int) -> None:
    with pytest.raises(ValueError, match="shorter record reference"):
        render_slip(**{**ARGS, "reference": "X" * length})
