"""Every text of the browser kit's page, in Bahasa Indonesia first and English, in one place.

Why a catalogue on the server: the page is for trainee officers, who read Bahasa
Indonesia; a developer may switch it to English.  The page holds no words of its own: it
asks ``/catalogue`` for these tables and fills every element that names a key
(``data-t``), and the web kit's own lines in the event log (a fault switched, a scenario
step) are kept in both languages (:class:`Note`), so the switch changes them too.  The
kit's own log lines (capture, hal, storage) are the developers' and stay as logged.

The fingers' names are the kit's own (`capture.prompts`), as its display shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capture.prompts import Language, word
from hal.types import FingerPosition

#: The page's languages, in the order of every pair below.
LANGUAGES = ("id", "en")

Word = tuple[str, str]

#: Labels, headings, buttons and messages of the page.
PAGE: dict[str, Word] = {
    "title": ("Jemput — simulator kit", "Jemput — kit simulator"),
    "language": ("English", "Bahasa Indonesia"),  # the switch names the other language
    "header.state": ("status", "state"),
    "header.record": ("rekaman #", "record #"),
    "header.cards": ("kartu (buku kit)", "cards (kit ledger)"),
    "training.banner": (
        "MODE LATIHAN: rekaman di sini tidak pernah dihitung.",
        "TRAINING MODE: records made here never count.",
    ),
    "training.kit": ("Kit latihan", "Training kit"),
    "training.status": (
        "{done} dari {total} direkam, {fired} dari {faults} gangguan",
        "{done} of {total} recorded, {fired} of {faults} faults",
    ),
    "training.finished": ("Skenario selesai", "Scenario finished"),
    "section.display": ("Layar dan tombol", "Display and buttons"),
    "display.alt": ("layar kit", "kit display"),
    "button.up": ("NAIK (↑ atau k)", "UP (↑ or k)"),
    "button.down": ("TURUN (↓ atau j)", "DOWN (↓ or j)"),
    "button.ok": ("OK (Enter atau spasi)", "OK (Enter or space)"),
    "button.back": (
        "KEMBALI (Backspace atau b; tahan, atau x, untuk membatalkan)",
        "BACK (Backspace or b; hold, or x, to cancel)",
    ),
    "button.power": (
        "Tombol daya ko-prosesor: tekan untuk melihat baterai, tahan satu detik untuk "
        "menahan 3 detik (mati dengan aman)",
        "The power co-processor's button: click shows the battery, hold a second for a "
        "3 s hold (safe shutdown)",
    ),
    "hint.buttons": (
        "Tahan BACK satu detik untuk membatalkan; tahan ⏻ (tombol daya Pico) satu detik "
        "untuk mematikan kit dengan aman.",
        "Hold BACK for a second to cancel; hold ⏻ (the Pico's power button) for a second "
        "to shut down safely.",
    ),
    "officers": ("Petugas kit:", "The kit's officers:"),
    # what the printers do behind the machine (`capture.events.JobKind`), while the kit
    # already takes the next person's buttons
    "behind.print": ("mencetak kartu…", "printing a card…"),
    "behind.slip": ("mencetak slip…", "printing a slip…"),
    "section.pad": ("Bantalan tanda tangan", "Signature pad"),
    "pad.trainee": (
        "Saya yang menandatangani: bantalan menunggu pena saya",
        "I sign: the pad waits for my pen",
    ),
    "pad.send": ("Kirim tanda tangan ke bantalan", "Send the signature to the pad"),
    "pad.clear": ("Hapus", "Clear"),
    "pad.empty": ("Gambar tanda tangan dulu", "Draw a signature first"),
    "pad.signed": (
        "Terkirim: bantalan memakainya saat kit meminta",
        "Signed: the pad replays it when the kit asks",
    ),
    "pad.refused": ("Ditolak", "Refused"),
    "pad.waiting": (
        "Kit menunggu tanda tangan: gambar, lalu kirim",
        "The kit waits for a signature: draw it, then send it",
    ),
    "section.printed": ("Hasil cetak", "Printed"),
    "printed.hopper": ("Blangko di dalam printer kartu:", "Blank cards inside the card printer:"),
    "section.about": ("Petunjuk untuk pelatih", "Instructions for the trainer"),
    "section.queue": ("Siapa yang datang", "Who comes"),
    "section.front": ("Di depan kit", "In front of the kit"),
    "front.now": ("Sekarang:", "Now:"),
    "front.nobody": ("tidak ada", "nobody"),
    "front.stand_in": ("Yang berdiri di depan:", "Stand in:"),
    "front.as_kit": ("siapa pun yang sedang dilayani kit", "whoever the kit is dealing with"),
    "resident.worklist": ("daftar", "worklist"),
    "resident.walk_in": ("datang langsung", "walk-in"),
    "section.glass": ("Jari di kaca sensor", "Finger on the glass"),
    "glass.finger": ("Jari", "Finger"),
    "glass.asked": ("yang diminta kit", "the one asked for"),
    "glass.quality": ("Mutu", "Quality"),
    "section.camera": ("Kamera (foto terakhir)", "Camera (last frame)"),
    "camera.none": ("belum ada foto", "no photo yet"),
    "section.battery": ("Baterai", "Battery"),
    "section.faults": ("Sakelar gangguan", "Fault switches"),
    "section.log": ("Log kejadian", "Event log"),
}

#: The simulated kit's parts, as the fault switches and the log name them.
DEVICES: dict[str, Word] = {
    "fingerprint": ("sensor sidik jari", "fingerprint sensor"),
    "signature-pad": ("bantalan tanda tangan", "signature pad"),
    "card-printer": ("printer kartu", "card printer"),
    "receipt-printer": ("printer slip", "receipt printer"),
    "display": ("layar", "display"),
    "battery": ("baterai", "battery"),
    "clock": ("jam", "clock"),
    "camera": ("kamera", "camera"),
}

#: Every fault kind of every part (`hw_sim.wired.WiredKit.DEVICE_FAULTS`).
FAULTS: dict[str, Word] = {
    "unplugged": ("kabel lepas", "unplugged"),
    "corrupt": ("data rusak", "corrupt answers"),
    "poor-image": ("gambar buruk", "poor image"),
    "wrong-password": ("kata sandi salah", "wrong password"),
    "garbage": ("derau di kabel", "line noise"),
    "out-of-cards": ("kartu habis", "out of cards"),
    "cover-open": ("penutup terbuka", "cover open"),
    "ribbon-out": ("pita habis", "ribbon out"),
    "jam": ("macet", "jam"),
    "paper-out": ("kertas habis", "paper out"),
    "stuck": ("kertas tersangkut", "paper stuck"),
    "drain": ("cepat terkuras", "draining"),
    "wrong-version": ("versi chip salah", "wrong chip version"),
    "osc-stopped": ("osilator berhenti", "oscillator stopped"),
    "dark": ("foto gelap", "dark photo"),
    "blur": ("foto buram", "blurred photo"),
    "hang": ("tidak menjawab", "hangs"),
}

#: What the page may put on the sensor's glass (`hw_sim.fingers.Glass`).
GLASS: dict[str, Word] = {
    "as-born": ("seperti tangan orangnya", "as the person's hand is"),
    "good": ("baik", "good"),
    "poor": ("buruk", "poor"),
    "none": ("tidak ada (tanpa jari)", "none (no finger)"),
}

#: The status LED's meanings (`hal.types.Indicator`).
LED: dict[str, Word] = {
    "off": ("mati", "off"),
    "ready": ("siap", "ready"),
    "busy": ("sibuk", "busy"),
    "attention": ("perlu tindakan", "attention"),
    "fault": ("gangguan", "fault"),
    "saved": ("tersimpan", "saved"),
}

#: Who logs in (`storage.model.Role`).
ROLES: dict[str, Word] = {
    "officer": ("petugas", "officer"),
    "supervisor": ("supervisor", "supervisor"),
    "official": ("pejabat desa", "village official"),
}

#: The web kit's own lines in the event log; ``{...}`` are filled from :class:`Note`.
NOTES: dict[str, Word] = {
    "printed.card": ("kartu tercetak: {name}", "card printed: {name}"),
    "printed.slip": ("slip tercetak: {name}", "slip printed: {name}"),
    "front.as_kit": (
        "di depan kit: siapa pun yang sedang dilayani",
        "front of the kit: whoever the kit is dealing with",
    ),
    "front.person": ("di depan kit: {name} ({nik})", "front of the kit: {name} ({nik})"),
    "glass": ("kaca sensor: {finger}, {quality}", "sensor glass: {finger}, {quality}"),
    "signature": (
        "tanda tangan digambar: {strokes} goresan",
        "signature drawn: {strokes} stroke(s)",
    ),
    "signer.trainee": ("bantalan menunggu pena peserta", "the pad waits for the trainee's pen"),
    "signer.resident": (
        "warga simulasi menandatangani sendiri",
        "the simulated resident signs",
    ),
    "battery": ("baterai diatur ke {percent}%", "battery set to {percent}%"),
    "power.pressed": ("tombol daya ditekan", "power button pressed"),
    "power.held": ("tombol daya ditahan", "power button held"),
    "fault.on": ("gangguan dinyalakan: {device}, {kind}", "fault on: {device}, {kind}"),
    "fault.cleared": ("gangguan dihapus: {device}", "faults cleared: {device}"),
    "scenario.recorded": ("skenario: {name} ({nik}) direkam", "scenario: {name} ({nik}) recorded"),
    "scenario.fault": ("skenario: gangguan {device}, {kind}", "scenario: fault {device}, {kind}"),
    "scenario.repaired": ("skenario: {device} diperbaiki", "scenario: {device} repaired"),
    "scenario.finished": ("skenario selesai: {name}", "scenario finished: {name}"),
}


def finger_word(position: FingerPosition) -> Word:
    """A finger's name as the kit's display gives it, in both languages."""
    key = f"finger.{int(position)}"
    return word(key, Language.ID), word(key, Language.EN)


@dataclass(frozen=True, init=False)
class Note:
    """A line of the event log that is ours, with its values; each value is text, or a
    :data:`Word` pair (a device's name) taken in the line's language."""

    key: str
    values: dict[str, object]

    def __init__(self, key: str, **values: object) -> None:
        if key not in NOTES:
            raise KeyError(f"no event log text {key!r}; add it to simulator.web.texts.NOTES")
        object.__setattr__(self, "key", key)
        object.__setattr__(self, "values", values)

    def text(self, language: str) -> str:
        index = LANGUAGES.index(language)
        values = {
            name: value[index] if isinstance(value, tuple) else value
            for name, value in self.values.items()
        }
        return NOTES[self.key][index].format(**values)


def page_catalogue() -> dict[str, Any]:
    """Every text the page shows, per language: ``{"id": {key: text}, "en": {...}}``, with
    the parts, faults, glass, LED and roles under ``device.``, ``fault.``, ``glass.``,
    ``led.`` and ``role.``, and the fingers under ``finger.NAME``."""
    tables: dict[str, dict[str, Word]] = {
        "": PAGE,
        "device.": DEVICES,
        "fault.": FAULTS,
        "glass.": GLASS,
        "led.": LED,
        "role.": ROLES,
        "finger.": {
            p.name: finger_word(p) for p in FingerPosition if p is not FingerPosition.UNKNOWN
        },
    }
    return {
        language: {
            prefix + key: pair[index]
            for prefix, table in tables.items()
            for key, pair in table.items()
        }
        for index, language in enumerate(LANGUAGES)
    }
