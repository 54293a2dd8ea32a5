"""The kinds of entry the capture loop writes to the kit's hash-chained audit log.

An enum, so a misspelt kind fails when the module loads rather than turning into an entry
no report counts.  The values are the strings the log has always held.
"""

from __future__ import annotations

import enum

from storage.kit import JOURNAL_ALREADY_SEALED


class AuditKind(enum.StrEnum):
    SELF_TEST = "self-test"
    LOGIN = "login"
    PIN_WRONG = "pin-wrong"
    LOCK = "lock"
    IDLE_LOCK = "idle-lock"
    PRINT_ANSWERED = "print-answered"
    RESUME = "resume"
    DISCARD_JOURNAL = "discard-journal"
    JOURNAL_ALREADY_SEALED = JOURNAL_ALREADY_SEALED  # the store writes it (one spelling)
    CANCEL = "cancel"
    CARDS_LOADED = "cards-loaded"
    FINGER_EXCEPTION = "finger-exception"
    #: An officer's own finger offered as the applicant's: the enrolment is dropped.
    OFFICER_FINGER = "officer-finger"
    #: A finger of someone enrolled on this kit before: a supervisor decides (twins).
    DUPLICATE = "duplicate"
    DUPLICATE_REFUSED = "duplicate-refused"
    #: A sealed person's fingers could not be put into the sensor's library.
    LIBRARY_FAILED = "library-failed"
    #: The self-test found the sensor's library not as the page map said (a swapped sensor).
    LIBRARY_RECONCILED = "library-reconciled"
    NO_SIGNATURE = "no-signature"
    APPROVAL = enum.auto()  # "approval", as StrEnum spells the lower-case name
    SEAL_FAILED = "seal-failed"
    PRINT_BEGIN = "print-begin"
    PRINTED = "printed"
    SPOILED = "spoiled"
    SAFE_SHUTDOWN = "safe-shutdown"
    OFFICIAL_IN = "official-in"
    DOMICILE = "domicile"
    CORRECTED = "corrected"
    FLAGGED = "flagged"
    SIGNATURE_EXCEPTION = "signature-exception"
