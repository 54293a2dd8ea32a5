"""Where a round goes and for whom: venue kinds, the groups a record counts in, disabilities.

Here rather than in `storage.model` because the kit's records, the office's plans and the
district's report all speak these words, and the report counts by them: one list each,
fixed, so a header naming anything else does not verify (`storage.record`).
"""

from __future__ import annotations

import enum


class VenueKind(enum.Enum):
    """The kind of place a jemput bola round goes to (the news reports' list of places)."""

    SEKOLAH = "sekolah"
    PESANTREN = "pesantren"
    PERGURUAN_TINGGI = "perguruan tinggi"
    RUTAN_LAPAS = "rutan/lapas"
    PERUSAHAAN_KANTOR = "perusahaan/kantor"
    PERUMAHAN = "perumahan/apartemen"
    PUSAT_BELANJA = "pusat belanja"
    #: A public gathering: a car-free day, the mayor's Sunday community-work site.
    KEGIATAN_WARGA = "kegiatan warga"
    BALAI_DESA = "balai desa"
    PANTI_SOSIAL = "panti sosial"
    RUMAH_SAKIT = "rumah sakit"
    KUNJUNGAN_RUMAH = "kunjungan rumah"

    @property
    def is_home(self) -> bool:
        """A home visit: its address is where a person lives, which is personal data, so
        neither the signed plan nor the district keeps it (`storage.rounds`)."""
        return self is VenueKind.KUNJUNGAN_RUMAH


class Group(enum.Enum):
    """A group the office plans and reports by; a record carries each that applies.

    The order is the order a header lists them in.
    """

    #: Turns 17 by the election day and could not vote at the one before (five years).
    PEMILIH_PEMULA = "pemilih pemula"
    KIA = "KIA"
    #: Recorded away from home (domisili sementara), with the KK.
    DOMISILI = "domisili"
    #: The person, or their companion, declared a disability.
    DISABILITAS = "disabilitas"


class Disability(enum.Enum):
    """The civil registry's own list (formulir F-1.01, "penyandang cacat"), one category
    per person as the form asks; worded as UU 8/2016 does, without "cacat"."""

    FISIK = "fisik"
    NETRA = "netra/buta"
    RUNGU_WICARA = "rungu/wicara"
    MENTAL_JIWA = "mental/jiwa"
    FISIK_DAN_MENTAL = "fisik dan mental"
    LAINNYA = "lainnya"


class Assist(enum.Enum):
    """How the kit's flow was adapted for the person."""

    #: Photographed seated (a wheelchair, a bed): more tries, a wider frame for the face.
    SEATED = "duduk"
    #: A companion answered the prompts for the person.
    COMPANION = "pendamping"
