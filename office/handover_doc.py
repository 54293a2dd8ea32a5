"""The handover document (berita acara serah terima): one printable page per village batch.

Why HTML: the office prints it from any browser, offline, and keeps the signed copy; the
page loads nothing (a Content-Security-Policy forbids it) and has no script.  It is in
Bahasa Indonesia, as every paper a citizen or an official reads (docs/card.md), and lists
each card with the resident's name, the slip's reference (the QR code on the resident's
receipt slip) and the blank card's serial, with a column for the resident's initials and
the signatures of who hands the batch over and who takes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from office.desk import RETURN_AFTER_DAYS, OfficeCard
from provisioning.office_log import OfficeEntry

MONTHS = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
STYLE = """
@page{size:A4;margin:18mm}
body{font-family:serif;color:#000;margin:24px;font-size:13px}
h1{font-size:16px;text-align:center;margin:0}
h2{font-size:14px;text-align:center;margin:2px 0 14px}
.kop{text-align:center;border-bottom:3px double #000;padding-bottom:6px;margin-bottom:12px}
.kop b{font-size:15px}
table.daftar{border-collapse:collapse;width:100%;margin:10px 0}
table.daftar td,table.daftar th{border:1px solid #000;padding:4px 6px;text-align:left}
table.daftar th{background:#eee}
td.no{text-align:right;width:28px}
td.paraf{width:80px}
table.ttd{width:100%;margin-top:28px}
table.ttd td{width:50%;text-align:center;vertical-align:top;height:110px}
.tanggal{text-align:right}
"""


def long_date(day: date) -> str:
    """``17 Agustus 2025``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def render(
    batch: OfficeEntry,
    cards: Sequence[OfficeCard],
    *,
    regency: str,
    on: date,
    return_days: int = RETURN_AFTER_DAYS,
) -> str:
    """The document of ``batch`` (the office's BATCH entry) with its ``cards`` opened."""
    serials = {entry.card: entry.serial for entry in batch.cards}
    rows = "".join(
        "<tr>"
        f'<td class="no">{n}</td>'
        f"<td>{escape(card.enrolment.resident.name)}</td>"
        f"<td>{escape(card.slip)}</td>"
        f"<td>{escape(serials[card.card])}</td>"
        '<td class="paraf"></td>'
        "</tr>"
        for n, card in enumerate(cards, start=1)
    )
    village, kecamatan = escape(batch.village or "-"), escape(batch.kecamatan or "-")
    body = (
        '<div class="kop">PEMERINTAH '
        f"{escape(regency)}<br><b>DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL</b></div>"
        "<h1>BERITA ACARA SERAH TERIMA KARTU TANDA PENDUDUK ELEKTRONIK</h1>"
        f'<h2>Nomor: <span id="batch">{escape(batch.batch or "")}</span></h2>'
        f"<p>Pada hari ini, {long_date(on)}, Dinas Kependudukan dan Pencatatan Sipil "
        f"menyerahkan <b>{len(cards)}</b> keping KTP-el hasil perekaman kepada Pemerintah "
        f"Desa/Kelurahan <b>{village}</b>, Kecamatan <b>{kecamatan}</b>, untuk diserahkan kepada "
        "penduduk yang namanya tercantum di bawah ini. Setiap penduduk mengambil kartunya "
        "dengan dicocokkan sidik jarinya pada kit Jemput (atau tanda tangan bila sidik jarinya "
        f"dikecualikan); kartu yang tidak diambil dalam {return_days} hari dikembalikan ke "
        "Dinas.</p>"
        '<table class="daftar"><thead><tr><th>No</th><th>Nama</th><th>Nomor tanda bukti '
        "(slip)</th><th>Nomor seri blangko</th><th>Paraf penerima</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        "<p>Kartu yang tidak ada dalam batch saat diterima dicatat pada berita acara ini dan "
        "dilaporkan ke Dinas.</p>"
        f'<p class="tanggal">{escape(regency.removeprefix("KABUPATEN ").title())}, '
        f"{long_date(on)}</p>"
        '<table class="ttd"><tr><td>Yang menyerahkan,<br>Petugas Dinas Kependudukan dan '
        "Pencatatan Sipil<br><br><br><br>(..............................)</td>"
        "<td>Yang menerima,<br>Kepala Desa / Kasi Pemerintahan<br><br><br><br>"
        "(..............................)</td></tr></table>"
    )
    return (
        '<!DOCTYPE html><html lang="id"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>Berita acara serah terima {escape(batch.batch or '')}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>\n"
    )
