"""The corrections a draft keeps: each field's one correction, from the worklist's value."""

from __future__ import annotations

from datetime import date, datetime

from capture.draft import Draft
from storage.model import CorrectableField, Correction, Resident
from vocabulary.people import Sex

RESIDENT = Resident("3505014101900001", "SITI", Sex.FEMALE, "BLITAR", date(1990, 1, 1))
STARTED = datetime(2026, 12, 1, 9)
FIELD = CorrectableField.OCCUPATION


def three_values() -> tuple[str, str, str]:
    """The worklist's occupation and two others."""
    listed = FIELD.value_of(RESIDENT)
    first, second, *_ = (v for v in FIELD.choices if v != listed)
    return listed, first, second


def test_a_field_corrected_twice_keeps_the_worklists_value_as_its_original() -> None:
    listed, first, second = three_values()
    draft = Draft(RESIDENT, "PTG-001", STARTED)
    draft.correct(FIELD, first, "KDS-001")
    draft.correct(FIELD, second, "KDS-002")
    assert draft.corrections == [Correction(FIELD, listed, second, "KDS-002")]
    assert draft.original(FIELD) == listed
    assert FIELD.value_of(draft.resident) == second


def test_a_field_corrected_back_to_the_worklists_value_has_no_correction() -> None:
    listed, first, _ = three_values()
    draft = Draft(RESIDENT, "PTG-001", STARTED)
    draft.correct(FIELD, first, "KDS-001")
    draft.correct(FIELD, listed, "KDS-001")
    assert draft.corrections == []
    assert FIELD.value_of(draft.resident) == listed
