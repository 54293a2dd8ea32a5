"""The language people read, and numbers, days and times written the way they read them.

Here rather than in `capture.prompts`, which shows the kit's screens in it, because the
technician's tool (`provisioning`) writes its reports and tables in the same two languages
and may not import `capture`.  Bahasa Indonesia is the default everywhere; English is the
option.

Why the formats follow the language: an office head reads ``1.575`` and ``27,0%`` (the
point groups thousands, the comma is the decimal separator), an English reader ``1,575``
and ``27.0%``; the same figure written the other way round is misread by a factor of a
thousand.  Times are shown in the zone of the machine that shows them, with the zone
named (WIB, WITA, WIT), since a kit's clock keeps UTC and Indonesia spans three zones.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import NamedTuple

#: The environment variable that sets ``--language`` for every command that has it.
LANGUAGE_ENV = "JEMPUT_LANGUAGE"


class Language(enum.Enum):
    ID = "id"
    EN = "en"


class Words(NamedTuple):
    """One text in both languages: ``RECORDED(language)`` is the one to show."""

    id: str
    en: str

    def __call__(self, language: Language) -> str:
        return self.id if language is Language.ID else self.en


#: (thousands separator, decimal separator) per language.
_SEPARATORS = {Language.ID: (".", ","), Language.EN: (",", ".")}


def count(value: int, language: Language) -> str:
    """A whole number with its thousands grouped: 1.575 (Bahasa), 1,575 (English)."""
    thousands, _ = _SEPARATORS[language]
    return f"{value:,}".replace(",", thousands)


def share(value: float, language: Language) -> str:
    """A percentage to one decimal: 27,0% (Bahasa), 27.0% (English)."""
    _, decimal = _SEPARATORS[language]
    return f"{value:.1f}%".replace(".", decimal)


def day(value: date, language: Language) -> str:
    """A date, day first in Bahasa (14-03-2026) as Indonesian forms write it; ISO 8601 in
    English (2026-03-14), which no English reader takes for March the 14th's opposite."""
    return value.strftime("%d-%m-%Y") if language is Language.ID else value.isoformat()


def local_time(moment: datetime, language: Language) -> str:
    """``moment`` in this machine's zone, seconds shown, the zone named: 14-03-2026 09:00:05
    WIB.  A zone without a name of its own (``+04``) is named by its offset from UTC."""
    local = moment.astimezone()
    zone = local.tzname() or ""
    if not zone.isalpha():
        offset = local.strftime("%z")
        zone = f"UTC{offset[:3]}:{offset[3:]}"
    return f"{day(local.date(), language)} {local:%H:%M:%S} {zone}"


__all__ = ["LANGUAGE_ENV", "Language", "Words", "count", "day", "local_time", "share"]
