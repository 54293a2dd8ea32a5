"""The e-KTP card front: golden images, the photo colour rule, and text that always fits.

Golden images live in ``tests/capture/golden/`` at half resolution (508 x 324) to keep
the repository small; a render is downscaled the same way before it is compared, with a
tolerance for the small differences another FreeType or libjpeg build may make.

When the layout changes on purpose, regenerate the goldens and look at them before
committing::

    JEMPUT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/capture/test_card.py
"""

from __future__ import annotations

import dataclasses
import io
import os
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from capture.card import (
    CARD_SIZE,
    FIELD_SIZE,
    FIELDS_BOTTOM,
    FIELDS_TOP,
    INK,
    MIN_SIZE,
    PHOTO_BLUE,
    PHOTO_BOX,
    PHOTO_RED,
    SIGNATURE_BOX,
    TRAINING_BAND_HEIGHT,
    TRAINING_RED,
    VALUE_RIGHT,
    VALUE_WIDTH,
    card_background,
    font,
    header_lines,
    layout_fields,
    printable,
    render_card_front,
    render_photo_panel,
)
from storage.model import CardKind, Resident
from vocabulary.people import Sex

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_SIZE = (CARD_SIZE[0] // 2, CARD_SIZE[1] // 2)
UPDATE = os.environ.get("JEMPUT_UPDATE_GOLDEN") == "1"
#: Mean absolute difference per channel (0..255) a golden comparison tolerates.
MAX_MEAN_DIFF = 0.5
#: Share of pixels allowed to differ by more than PIXEL_THRESHOLD in some channel.
MAX_DIFFERING_SHARE = 0.001
PIXEL_THRESHOLD = 48

ISSUED_ON = date(2024, 5, 2)
LONG_ADDRESS = (
    "Jalan Raya Sumberjo Gang Kenanga Nomor 123 Blok C Perumahan Griya Asri Permai Tahap Dua"
)

BASE = Resident(
    nik="3505125708900003",
    name="Siti Aminah",
    sex=Sex.FEMALE,
    birth_place="Blitar",
    birth_date=date(1990, 8, 17),
    province="Jawa Timur",
    regency="Blitar",
    district="Sanankulon",
    village="Sumberjo",
    address="Jl. Melati No. 12",
    rt_rw="003/005",
    religion="Islam",
    marital_status="Kawin",
    occupation="Petani/Pekebun",
    blood_type="O",
)

CASES: dict[str, Resident] = {
    "short": BASE,
    "long": dataclasses.replace(
        BASE,
        nik="1671010101850001",
        name="Raden Mas Muhammad Abdurrahman Wijayakusuma Hadiningrat Prawirodirdjo",
        sex=Sex.MALE,
        birth_date=date(1985, 1, 1),
        province="Sumatera Selatan",
        regency="Kota Palembang",
        address=LONG_ADDRESS,
        village="Sungai Pangeran",
        district="Ilir Timur Satu",
        occupation="Karyawan Badan Usaha Milik Negara",
    ),
    "one_word": dataclasses.replace(
        BASE, name="Sukarno", sex=Sex.MALE, birth_date=date(2001, 6, 6)
    ),
    "apostrophe_hyphen": dataclasses.replace(BASE, name="Siti Nur'aini Abdul-Rahman"),
    "balinese": dataclasses.replace(
        BASE, name="Ni Luh Putu Ayu Kadek Sri Wahyuni", birth_date=date(1999, 3, 4)
    ),
    "latin1": dataclasses.replace(BASE, name="José Müller Françoise Ødegård"),
}


@pytest.fixture(scope="module")
def photo_jpeg() -> bytes:
    """A head-and-shoulders portrait drawn with Pillow, on a grey backdrop."""
    image = Image.new("RGB", (480, 640), (200, 200, 195))
    draw = ImageDraw.Draw(image)
    draw.ellipse((150, 120, 330, 340), fill=(224, 172, 130))
    draw.rectangle((90, 420, 390, 640), fill=(40, 60, 120))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture(scope="module")
def signature_png() -> bytes:
    """A pen stroke on a transparent background, as the signature step stores it."""
    image = Image.new("RGBA", (400, 150), (0, 0, 0, 0))
    ImageDraw.Draw(image).line(
        [(10, 100), (80, 20), (150, 120), (250, 30), (380, 90)], fill=(0, 0, 0, 255), width=5
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _render(resident: Resident, photo_jpeg: bytes, signature_png: bytes | None) -> Image.Image:
    return render_card_front(
        resident,
        photo_jpeg=photo_jpeg,
        signature_png=signature_png,
        issued_place="Blitar",
        issued_on=ISSUED_ON,
    )


def _differences(actual: Image.Image, expected: Image.Image) -> tuple[float, float]:
    """Mean absolute difference per channel, and the share of clearly differing pixels."""
    diff = ImageChops.difference(actual, expected)
    mean = sum(ImageStat.Stat(diff).mean) / 3
    red, green, blue = diff.split()
    strongest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    hist = strongest.histogram()
    share = sum(hist[PIXEL_THRESHOLD + 1 :]) / (actual.width * actual.height)
    return mean, share


def _golden(card: Image.Image, case: str) -> Image.Image:
    """The stored golden of ``case``, after checking ``card`` against it (or storing it)."""
    assert card.mode == "RGB" and card.size == CARD_SIZE
    small = card.resize(GOLDEN_SIZE, Image.Resampling.BOX)
    path = GOLDEN / f"card_{case}.png"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        small.save(path, optimize=True)
    assert path.exists(), f"{path} missing: run with JEMPUT_UPDATE_GOLDEN=1 to create it"
    with Image.open(path) as stored:
        expected = stored.convert("RGB")
    mean, share = _differences(small, expected)
    assert mean <= MAX_MEAN_DIFF, f"{case}: mean difference {mean:.2f} from {path.name}"
    assert share <= MAX_DIFFERING_SHARE, f"{case}: {share:.2%} of pixels differ from {path.name}"
    return expected


@pytest.mark.parametrize("case", sorted(CASES))
def test_card_matches_golden(case: str, photo_jpeg: bytes, signature_png: bytes) -> None:
    _golden(_render(CASES[case], photo_jpeg, signature_png), case)


def test_golden_comparison_notices_a_changed_field(photo_jpeg: bytes, signature_png: bytes) -> None:
    """The tolerance is tight enough that one changed name fails the comparison."""
    original = _render(BASE, photo_jpeg, signature_png).resize(GOLDEN_SIZE, Image.Resampling.BOX)
    renamed = dataclasses.replace(BASE, name="Dewi Lestari Wulandari")
    changed = _render(renamed, photo_jpeg, signature_png).resize(GOLDEN_SIZE, Image.Resampling.BOX)
    mean, share = _differences(changed, original)
    assert share > MAX_DIFFERING_SHARE or mean > MAX_MEAN_DIFF


@pytest.mark.parametrize(
    ("year", "colour"),
    [(1990, PHOTO_BLUE), (1991, PHOTO_RED), (2000, PHOTO_BLUE), (2003, PHOTO_RED)],
)
def test_photo_background_is_red_for_odd_and_blue_for_even_birth_years(
    year: int, colour: tuple[int, int, int], photo_jpeg: bytes
) -> None:
    resident = dataclasses.replace(BASE, birth_date=date(year, 8, 17))
    card = _render(resident, photo_jpeg, None)
    left, top, right, _ = PHOTO_BOX
    for x, y in [(left + 3, top + 3), (right - 4, top + 3), ((left + right) // 2, top + 4)]:
        assert card.getpixel((x, y)) == colour


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_text_touches_the_photo_box(case: str, photo_jpeg: bytes, signature_png: bytes) -> None:
    resident = CASES[case]
    card = _render(resident, photo_jpeg, signature_png)
    expected = render_photo_panel(photo_jpeg, resident.birth_date.year)
    assert ImageChops.difference(card.crop(PHOTO_BOX), expected).getbbox() is None


def _absurd() -> Resident:
    word = "Pangeranwijayakusumahadiningratprawirodirdjo"
    return dataclasses.replace(
        BASE,
        name=" ".join([word] * 6),
        birth_place="Kabupaten Kepulauan Siau Tagulandang Biaro " * 4,
        birth_date=date(1987, 2, 28),
        address=LONG_ADDRESS * 5,
        village="Kelurahan " * 40,
        district="Kecamatan " * 40,
        religion="Kepercayaan Terhadap Tuhan Yang Maha Esa " * 3,
        marital_status="Cerai Mati " * 10,
        occupation="Karyawan Badan Usaha Milik Negara " * 6,
        citizenship="Warga Negara Indonesia " * 5,
        blood_type="AB+ Rhesus Positif",
        province="Provinsi " * 30,
        regency="Kota " + "Tanjungpinang " * 20,
    )


def test_absurdly_long_values_stay_inside_the_field_column(photo_jpeg: bytes) -> None:
    resident = _absurd()
    layout = layout_fields(resident)
    assert all(
        font(field.font_size).getlength(line) <= VALUE_WIDTH
        for field in layout
        for line in field.lines
    )
    assert all(field.font_size >= MIN_SIZE for field in layout)
    assert next(f for f in layout if f.label == "Nama").truncated

    card = _render(resident, photo_jpeg, None)
    background = card_background()
    # Between the value column and the photo, and below the fields, only background.
    for box in [
        (VALUE_RIGHT + 1, FIELDS_TOP, PHOTO_BOX[0], CARD_SIZE[1]),
        (0, FIELDS_BOTTOM, PHOTO_BOX[0], CARD_SIZE[1]),
    ]:
        assert ImageChops.difference(card.crop(box), background.crop(box)).getbbox() is None
    expected = render_photo_panel(photo_jpeg, resident.birth_date.year)
    assert ImageChops.difference(card.crop(PHOTO_BOX), expected).getbbox() is None


def test_layout_lists_the_fields_in_card_order() -> None:
    labels = [field.label for field in layout_fields(BASE)]
    assert labels == [
        "Nama",
        "Tempat/Tgl Lahir",
        "Jenis Kelamin",
        "Gol. Darah",
        "Alamat",
        "RT/RW",
        "Kel/Desa",
        "Kecamatan",
        "Agama",
        "Status Perkawinan",
        "Pekerjaan",
        "Kewarganegaraan",
        "Berlaku Hingga",
    ]
    values = {field.label: field.lines for field in layout_fields(BASE)}
    assert values["Tempat/Tgl Lahir"] == ("BLITAR, 17-08-1990",)
    assert values["Jenis Kelamin"] == ("PEREMPUAN",)
    assert values["Berlaku Hingga"] == ("SEUMUR HIDUP",)
    assert values["Nama"] == ("SITI AMINAH",)


def test_a_long_address_wraps_and_keeps_every_word() -> None:
    layout = {field.label: field for field in layout_fields(CASES["long"])}
    address = layout["Alamat"]
    assert len(address.lines) > 1
    assert not address.truncated
    assert " ".join(address.lines).split() == LONG_ADDRESS.upper().split()
    name = layout["Nama"]
    assert " ".join(name.lines).split() == CASES["long"].name.upper().split()


def test_a_value_wraps_onto_a_second_line_before_it_shrinks() -> None:
    medium = "Jalan Raya Sumberjo Gang Kenanga Nomor 123 Blok C"
    address = layout_fields(dataclasses.replace(BASE, address=medium))[4]
    assert address.label == "Alamat"
    assert len(address.lines) == 2
    assert " ".join(address.lines) == medium.upper()
    assert address.font_size == FIELD_SIZE


def test_a_name_that_fits_on_one_line_keeps_the_full_size() -> None:
    short, long = layout_fields(BASE)[0], layout_fields(CASES["long"])[0]
    assert len(short.lines) == 1
    assert short.font_size >= long.font_size


def test_latin1_letters_are_spelled_in_the_fonts_characters() -> None:
    assert (
        printable("José Müller Françoise Ødegård  Straße")
        == "JOSE MULLER FRANCOISE ODEGARD STRASSE"
    )
    assert printable("Nur'aini Abdul-Rahman") == "NUR'AINI ABDUL-RAHMAN"
    assert printable("漢字 Ali") == "?? ALI"
    name = layout_fields(CASES["latin1"])[0]
    assert name.lines == ("JOSE MULLER FRANCOISE ODEGARD",)


def test_empty_fields_print_a_dash_and_the_header_names_kabupaten_or_kota() -> None:
    walk_in = Resident(
        nik="1504010101010001",
        name="Budi",
        sex=Sex.MALE,
        birth_place="",
        birth_date=date(2001, 1, 1),
    )
    values = {field.label: field.lines for field in layout_fields(walk_in)}
    assert values["Alamat"] == ("-",)
    assert values["Tempat/Tgl Lahir"] == ("-, 01-01-2001",)
    assert header_lines(walk_in) == ("PROVINSI -", "KABUPATEN -")
    assert header_lines(BASE) == ("PROVINSI JAWA TIMUR", "KABUPATEN BLITAR")
    assert header_lines(CASES["long"])[1] == "KOTA PALEMBANG"


def test_an_unreadable_photo_says_to_retake_it(signature_png: bytes) -> None:
    with pytest.raises(ValueError, match="retake the photo"):
        _render(BASE, b"not a jpeg", signature_png)


KIA_CHILD = Resident(
    nik="3505105406160001",
    name="PUTRI AYU LESTARI",
    sex=Sex.FEMALE,
    birth_place="BLITAR",
    birth_date=date(2016, 6, 14),
    province="JAWA TIMUR",
    regency="KABUPATEN BLITAR",
    district="KANIGORO",
    village="SATREYAN",
    address="DUSUN KRAJAN NO. 7",
    rt_rw="002/003",
    religion="ISLAM",
    marital_status="BELUM KAWIN",
    occupation="PELAJAR/MAHASISWA",
    blood_type="O",
)


def test_kia_card_matches_golden(photo_jpeg: bytes, signature_png: bytes) -> None:
    """The KIA: its title above the photo, no status perkawinan, pekerjaan or signature,
    valid until the day before the 17th birthday."""
    card = render_card_front(
        KIA_CHILD,
        photo_jpeg=photo_jpeg,
        signature_png=signature_png,  # given, but a KIA carries none
        issued_place="Blitar",
        issued_on=ISSUED_ON,
        kind=CardKind.KIA,
    )
    expected = _golden(card, "kia")
    ektp = _render(KIA_CHILD, photo_jpeg, signature_png).resize(GOLDEN_SIZE, Image.Resampling.BOX)
    assert _differences(ektp, expected)[1] > MAX_DIFFERING_SHARE, "the KIA is not the e-KTP"
    signature_area = card.crop(SIGNATURE_BOX)
    assert INK not in _colours(signature_area), "no signature on a KIA"


def _colours(image: Image.Image) -> set[object]:
    """Every colour the image holds (``getcolors`` counts them without a pixel list)."""
    counted = image.getcolors(maxcolors=image.width * image.height)
    assert counted is not None
    return {colour for _, colour in counted}


def test_kia_fields_leave_out_marriage_and_work_and_end_before_17() -> None:
    layout = layout_fields(KIA_CHILD, kind=CardKind.KIA)
    labels = [field.label for field in layout]
    assert "Status Perkawinan" not in labels and "Pekerjaan" not in labels
    assert layout[-1].label == "Berlaku Hingga" and tuple(layout[-1].lines) == ("13-06-2033",)


def test_a_kia_of_a_child_under_5_has_an_empty_photo_box_of_the_year_s_colour() -> None:
    assert _colours(render_photo_panel(None, 2023)) == {PHOTO_RED}
    assert _colours(render_photo_panel(None, 2024)) == {PHOTO_BLUE}


def test_a_training_card_matches_its_golden(photo_jpeg: bytes, signature_png: bytes) -> None:
    """The LATIHAN band over the header and the word from corner to corner."""
    card = render_card_front(
        BASE,
        photo_jpeg=photo_jpeg,
        signature_png=signature_png,
        issued_place="Blitar",
        issued_on=ISSUED_ON,
        training=True,
    )
    _golden(card, "training")


@pytest.mark.parametrize("kind", list(CardKind))
def test_a_training_card_carries_the_latihan_mark_and_a_real_one_does_not(
    kind: CardKind, photo_jpeg: bytes, signature_png: bytes
) -> None:
    def render(training: bool) -> Image.Image:
        return render_card_front(
            BASE,
            photo_jpeg=photo_jpeg,
            signature_png=signature_png,
            issued_place="Blitar",
            issued_on=ISSUED_ON,
            kind=kind,
            training=training,
        )

    real, training = render(False), render(True)
    assert TRAINING_RED not in _colours(real)
    band = training.crop((0, 0, CARD_SIZE[0], TRAINING_BAND_HEIGHT)).getcolors(maxcolors=4096)
    assert band is not None
    assert max(band)[1] == TRAINING_RED, "the band over the header is the mark's red"
    # the band spans the width, and the word runs down to the bottom corner and over the photo
    changed = ImageChops.difference(real, training).getbbox()
    assert changed is not None and changed[:3] == (0, 0, CARD_SIZE[0])
    assert changed[3] > CARD_SIZE[1] * 0.95
    photo = ImageChops.difference(real.crop(PHOTO_BOX), training.crop(PHOTO_BOX))
    assert photo.getbbox() is not None, "a photo pasted over would not hide the mark"
