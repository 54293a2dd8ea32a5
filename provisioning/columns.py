"""The reports' columns: one definition per figure, its key, its heading in both languages,
and how a value of it is written.

Why one place: the laptop's report (`provisioning.report`) and the district's
(`provisioning.district.formats`) show the same figures, and a technician who reads
"recorded 5" on one and "recorded 4, walk-ins 1" on the other cannot tell which is right.
So both take their coverage columns from here, with one meaning each (below), and every
format of a report (terminal table, CSV, JSON, the HTML page) takes its headings and cells
from the same `Table`.  A new table is a `Table` of `Column`s and rows of maps keyed by
the columns' keys; nothing else needs to learn its headings.

Keys are stable English identifiers: the CSV's header and the JSON's keys, which scripts
read, stay whatever the language (``--language``).  Headings and cells are the reader's:
Bahasa Indonesia by default, numbers written the reader's way (`vocabulary.language`).

The coverage figures, the same in both reports:

- *registered*: residents on the worklist(s);
- *recorded*: registered residents with a live record (voided and voiding records do not
  count); a walk-in is never "recorded", it is a walk-in;
- *walk-ins*: live records of people on no worklist (the kit's walk-in flag);
- *printed*: of both, those whose card the kit's signed ledger lists as printed;
- *excepted*: of both, those with a finger exception;
- *missing*: registered residents not recorded; *% recorded*: recorded of registered.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from vocabulary.language import Language, Words, count, day, share


class Kind(enum.Enum):
    """How a column's values are written."""

    TEXT = "text"
    COUNT = "count"
    SHARE = "share"
    DAY = "day"
    FLAG = "flag"


NONE_SHOWN = "-"
YES, NO = Words("ya", "yes"), Words("tidak", "no")
#: The head of a log (the collector's, the office store's) that has no entry yet.
NO_HEAD = Words("tidak ada", "none")


@dataclass(frozen=True)
class Column:
    """One figure of a table: ``key`` in CSV and JSON, ``heading`` for people; ``short``
    where a terminal table must fit 80 columns; ``values`` names coded text values."""

    key: str
    heading: Words
    kind: Kind = Kind.COUNT
    short: Words | None = None
    values: Mapping[str, Words] = field(default_factory=dict)

    def title(self, language: Language, *, short: bool = False) -> str:
        return (self.short if short and self.short else self.heading)(language)

    def cell(self, value: Any, language: Language) -> str:
        """``value`` as a reader of ``language`` reads it: 1.575, 27,0%, 14-03-2026, ya."""
        if value is None:
            return NONE_SHOWN
        if self.kind is Kind.COUNT:
            return count(value, language)
        if self.kind is Kind.SHARE:
            return share(value, language)
        if self.kind is Kind.DAY:
            return day(date.fromisoformat(value), language)
        if self.kind is Kind.FLAG:
            return (YES if value else NO)(language)
        words = self.values.get(value)
        return str(value) if words is None else words(language)


@dataclass(frozen=True)
class Table:
    """A titled table: its columns in order, each row a map from column keys to values."""

    name: str
    title: Words
    columns: tuple[Column, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns)

    def headings(self, language: Language, *, short: bool = False) -> list[str]:
        return [column.title(language, short=short) for column in self.columns]

    def cells(self, row: Mapping[str, Any], language: Language) -> list[str]:
        return [column.cell(row[column.key], language) for column in self.columns]

    def raw(self, rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
        """The values as they are, for CSV: keys' order, numbers unformatted."""
        return [[row[key] for key in self.keys] for row in rows]


# -- the coverage figures both reports show (their meaning is in the module's docstring) ----

REGISTERED = Column("registered", Words("terdaftar", "registered"), short=Words("daftar", "reg"))
RECORDED = Column("recorded", Words("sudah merekam", "recorded"), short=Words("rekam", "rec"))
WALK_INS = Column("walk_ins", Words("di luar daftar", "walk-ins"), short=Words("luar", "walk"))
PRINTED = Column("printed", Words("kartu dicetak", "cards printed"), short=Words("cetak", "card"))
EXCEPTED = Column(
    "excepted", Words("pengecualian jari", "finger exceptions"), short=Words("kecuali", "exc")
)
MISSING = Column(
    "missing", Words("belum merekam", "not yet recorded"), short=Words("belum", "miss")
)
SHARE_RECORDED = Column(
    "share_recorded", Words("% terekam", "% recorded"), Kind.SHARE, short=Words("%", "%")
)
COVERAGE = (REGISTERED, RECORDED, WALK_INS, PRINTED, EXCEPTED, MISSING, SHARE_RECORDED)

# -- the regional levels by their official names, in English too: "district" would mean
# a kecamatan to one reader and a kabupaten to another --

KABKOTA = Words("kabupaten/kota", "kabupaten/kota")
KECAMATAN = Words("kecamatan", "kecamatan")
DESA = Words("kelurahan/desa", "kelurahan/desa")

KIT = Column("kit_id", Words("kit", "kit"), Kind.TEXT)
