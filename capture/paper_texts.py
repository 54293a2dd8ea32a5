"""Every text a citizen reads on paper, in Bahasa Indonesia, in one place.

Why its own catalogue: the officer may run the display in English (`capture.prompts`), but
the card and the slip go home with the resident and to the Disdukcapil counter, so they
are in Bahasa Indonesia whatever the display's language.  Keeping the paper's words here,
apart from the display's, means no English reaches paper by way of the officer's choice,
and a test can read every word that is printed.

A slip says why no card was printed and what the office will do next: a walk-in learns
that the office verifies their data before the card is made, and where to collect it.
"""

from __future__ import annotations

from typing import NamedTuple

from capture.print_plan import SlipReason


class ReasonText(NamedTuple):
    """Why a slip and not a card (``why``), and what the office does now (``next``)."""

    why: str
    next: str


#: The slip's title and labels.
SLIP_TITLE = "TANDA BUKTI PEREKAMAN KTP-EL"
SLIP_LABELS = {
    "name": "Nama",
    "nik": "NIK",
    "record": "Nomor perekaman",
    "date": "Tanggal",
    "kit": "Kit",
    "reason": "Kartu belum dicetak karena",
    "next": "Yang dilakukan kantor",
    "collect": "Ambil kartu di",
    "reference": "Referensi",
    "companion": "Data dikonfirmasi",
}
#: Beside "Data dikonfirmasi" when a companion answered for the person (`Assist.COMPANION`).
SLIP_COMPANION = "bersama pendamping"
SLIP_KEEP = "Simpan tanda bukti ini dan bawa saat mengambil kartu."

#: What the office does when a printer problem on site kept the card back.
_PRINTED_LATER = "Kartu Anda dicetak kemudian oleh Disdukcapil dari data yang direkam hari ini."

#: Every reason a slip can give, with what happens next; a test holds it to `SlipReason`.
SLIP_REASONS: dict[SlipReason, ReasonText] = {
    SlipReason.RECORD_ONLY: ReasonText(
        "kit ini hanya merekam data; kartu tidak dicetak di lokasi",
        "Disdukcapil mencetak kartu Anda dari data yang direkam hari ini.",
    ),
    SlipReason.WALK_IN: ReasonText(
        "Anda datang langsung dan belum ada di daftar; data Anda perlu diverifikasi",
        "Disdukcapil mencocokkan NIK dan data Anda dengan data kependudukan, lalu mencetak kartu.",
    ),
    SlipReason.OFFICE_PRINTS: ReasonText(
        "kartu pengganti atau kartu dengan data baru dicetak di Disdukcapil",
        "Disdukcapil mencetak kartu baru Anda.",
    ),
    SlipReason.HOME_OFFICE: ReasonText(
        "domisili sementara: kartu dicetak oleh Disdukcapil daerah asal",
        "Rekaman dikirim ke Disdukcapil daerah asal Anda, yang mencetak kartu.",
    ),
    SlipReason.WAITS_FOR_BIRTHDAY: ReasonText(
        "kartu baru dapat diterbitkan pada ulang tahun ke-17",
        "Disdukcapil mencetak kartu Anda setelah ulang tahun ke-17.",
    ),
    SlipReason.DATA_TO_CORRECT: ReasonText(
        "ada data yang harus dibetulkan lebih dulu",
        "Disdukcapil membetulkan data Anda, lalu mencetak kartu.",
    ),
    SlipReason.NO_CARD_PRINTER: ReasonText(
        "tidak ada pencetak kartu di lokasi", "Disdukcapil mencetak kartu Anda."
    ),
    SlipReason.NO_BLANK_CARDS: ReasonText("blangko kartu habis", _PRINTED_LATER),
    SlipReason.PRINTER_NOT_READY: ReasonText(
        "pencetak kartu sedang tidak dapat mencetak", _PRINTED_LATER
    ),
    SlipReason.CARD_FAILED: ReasonText("pencetakan kartu gagal", _PRINTED_LATER),
}

#: The card front's labels, in the order DESIGN.md lists the fields.
CARD_LABELS = {
    "name": "Nama",
    "born": "Tempat/Tgl Lahir",
    "sex": "Jenis Kelamin",
    "blood": "Gol. Darah",
    "address": "Alamat",
    "rt_rw": "RT/RW",
    "village": "Kel/Desa",
    "district": "Kecamatan",
    "religion": "Agama",
    "marital": "Status Perkawinan",
    "occupation": "Pekerjaan",
    "citizenship": "Kewarganegaraan",
    "valid": "Berlaku Hingga",
}
CARD_PROVINCE = "PROVINSI"
CARD_REGENCY = "KABUPATEN"
CARD_CITY = "KOTA"
CARD_VALID_FOR_LIFE = "SEUMUR HIDUP"
#: The KIA's title, drawn above the photo: the one card a child carries.
KIA_TITLE = "KARTU IDENTITAS ANAK"

#: The word a training kit prints across its cards and slips.
TRAINING_WORD = "LATIHAN"
#: The band across the top of a training card or slip.
TRAINING_CARD_BAND = "LATIHAN - BUKAN KTP-EL - TIDAK BERLAKU"
TRAINING_SLIP_BAND = ("LATIHAN", "BUKAN TANDA BUKTI RESMI")
