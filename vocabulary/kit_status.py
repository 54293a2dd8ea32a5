"""A kit's status as a technician reads it, in the same words on the kit and on the laptop.

Why here: `jemput-kit status` (on the kit, `firmware.cli`) and `jemput-prov status` (over
the kit's port, `provisioning.cli`) show the same facts, and neither program may import
the other; a technician who reads "not collected 3" on one and "uncollected 3" on the other
wonders whether they differ.  Each line is a label and a value, Bahasa Indonesia first;
times are the kit's clock in this machine's zone, named (`vocabulary.language`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from vocabulary.language import Language, Words, count, local_time

Line = tuple[str, str]

KIT = Words("kit", "kit")
DEMO = Words("(kit DEMO: rekamannya bukan perekaman sungguhan)", "(DEMO kit: not real records)")
SEALED = Words("rekaman disegel", "records sealed")
UNCOLLECTED = Words("belum diambil", "not collected")
PRUNED = Words("dihapus", "pruned")
PRUNED_WHY = Words("{n} (sudah diambil, dihapus demi ruang)", "{n} (collected, deleted for space)")
LAST_SEQ = Words("nomor terakhir", "last record")
CARDS = Words("stok blangko", "card stock")
CARDS_DETAIL = Words(
    "{stock} (dimuat {loaded}, dicetak {printed}, rusak {spoiled}, hasil tak diketahui "
    "{unresolved})",
    "{stock} (loaded {loaded}, printed {printed}, spoiled {spoiled}, outcome unknown {unresolved})",
)
LIBRARY = Words("pustaka sidik jari", "sensor library")
LIBRARY_DETAIL = Words(
    "{used} dari {capacity} halaman (penduduk yang direkam di sini; yang terlama diganti "
    "bila penuh)",
    "{used} of {capacity} pages (people enrolled here; the oldest rotate out when full)",
)
IN_PROGRESS = Words("perekaman terbuka", "in progress")
RESUMABLE = Words("ada, dapat dilanjutkan", "an enrolment can be resumed")
NONE = Words("tidak ada", "none")
CLOCK = Words("jam kit", "kit clock")
KEYS = Words("kunci", "keys")
KEYS_DETAIL = Words("kit {kit}; data {data}", "kit {kit}; data {data}")
#: What holds a key, by `storage.keys.KeyBackend` value: a file key is unprotected.
BACKENDS = {
    "tpm": Words("TPM", "TPM"),
    "file": Words("file, TIDAK TERLINDUNGI", "file, UNPROTECTED"),
}
#: The software a kit runs, as `jemput-prov status` shows it after the lines above.
SOFTWARE = Words("perangkat lunak", "software")
ON_TRIAL = Words(" (masa uji: belum diterapkan)", " (on trial: not yet committed)")
SLOT = Words("slot", "slot")
NO_SLOT = Words("tidak ada (tidak dipasang di slot)", "none (not installed in slots)")
PICO = Words("firmware Pico", "pico firmware")
NO_PICO = Words("Pico tidak menjawab", "no Pico answered")
MINIMUM = Words("versi minimum", "minimum")
LAST_UPDATE = Words("pembaruan terakhir", "last update")
COMMITTED = Words("{version} diterapkan {at}", "{version} committed {at}")
ROLLED_BACK = Words(
    "{version} DIKEMBALIKAN ke versi sebelumnya {at}: {reason}",
    "{version} ROLLED BACK {at}: {reason}",
)
DAMAGED = Words("RUSAK", "DAMAGED")
AUDIT_BROKEN = Words("AUDIT RUSAK", "AUDIT BROKEN")
REPAIRED = Words("diperbaiki", "repaired")


def status_lines(
    language: Language,
    *,
    kit_id: str,
    demo: bool,
    sealed: int,
    uncollected: int,
    last_seq: int,
    cards: Mapping[str, int],
    journal_open: bool,
    clock: datetime,
) -> list[Line]:
    """The lines both programs show, in this order; each adds its own after them."""
    shown = _Unsent({name: count(value, language) for name, value in cards.items()})
    return [
        (KIT(language), f"{kit_id}  {DEMO(language)}" if demo else kit_id),
        (SEALED(language), count(sealed, language)),
        (UNCOLLECTED(language), count(uncollected, language)),
        (LAST_SEQ(language), count(last_seq, language)),
        (CARDS(language), CARDS_DETAIL(language).format_map(shown)),
        (IN_PROGRESS(language), (RESUMABLE if journal_open else NONE)(language)),
        (CLOCK(language), local_time(clock, language)),
    ]


def problem_lines(
    language: Language, *, damaged: list[str] | tuple[str, ...], audit_break: str | None
) -> list[Line]:
    """What is wrong with the kit's data, one line each (none when nothing is)."""
    lines = [(DAMAGED(language), name) for name in damaged]
    if audit_break:
        lines.append((AUDIT_BROKEN(language), audit_break))
    return lines


class _Unsent(dict[str, str]):
    """A count the kit did not send (the wire does not require each) is shown as "?"."""

    def __missing__(self, key: str) -> str:
        return "?"


def aligned(lines: list[Line]) -> str:
    """The lines as text, values in one column."""
    width = max(len(label) for label, _ in lines)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in lines)


__all__ = ["aligned", "problem_lines", "status_lines"]
