"""The kinds of entry in the kit's hash-chained audit log (`storage.state.SqliteAudit`).

One enum for every writer (the store, the capture loop, the kit's port and power guard, the
simulator's demo provisioning), so a misspelt kind fails when the module loads rather than
turning into an entry no report counts, and one event has one spelling.  The values are
the strings the log has always held: each entry's hash covers its kind as stored, so an
old log verifies whatever this enum says.

A receipt kept was once audited twice, as ``collection`` by the store and again as
``collected`` by the port; it is now written once, as :attr:`AuditKind.COLLECTION`.  Logs
written before still hold both entries, and still verify: nothing reads a kind back but
the chain's hash.
"""

from __future__ import annotations

import enum


class AuditKind(enum.StrEnum):
    # -- the store ----------------------------------------------------------------------
    #: Boot repaired the folder (temporaries removed, the index rebuilt).
    BOOT_REPAIR = "boot-repair"
    DAMAGED_RECORD = "damaged-record"
    SEAL = "seal"
    #: A dropped journal of a person already sealed (a crash between seal and clear).
    JOURNAL_ALREADY_SEALED = "journal-already-sealed"
    #: A collector's signed receipt kept: records up to it may be pruned.
    COLLECTION = "collection"
    PRUNE = "prune"
    PIN_BACKOFF = "pin-backoff"
    PIN_GUARD_TAMPERED = "pin-guard-tampered"
    # -- the kit's port and power guard ---------------------------------------------------
    PROVISIONED = "provisioned"
    #: The next round loaded over the port (its code, venue, how many people).
    ROUND_LOADED = "round-loaded"
    SET_TIME = "settime"
    POWER_REQUEST = "power-request"
    #: A release written into the inactive slot; the kit restarts into it on trial.
    UPDATE_INSTALLED = "update-installed"
    #: The version on trial passed its self-test and stays.
    UPDATE_COMMITTED = "update-committed"
    #: The version on trial failed its self-test: the committed one starts again.
    UPDATE_ROLLED_BACK = "update-rolled-back"
    # -- the capture loop -----------------------------------------------------------------
    SELF_TEST = "self-test"
    LOGIN = "login"
    PIN_WRONG = "pin-wrong"
    LOCK = "lock"
    IDLE_LOCK = "idle-lock"
    PRINT_ANSWERED = "print-answered"
    RESUME = "resume"
    DISCARD_JOURNAL = "discard-journal"
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
    #: A supervisor put an officer's login finger on the officer's sensor page.
    LOGIN_FINGER_ENROLLED = "login-finger-enrolled"
    #: A finger offered as an officer's login finger was refused (see `why`).
    LOGIN_FINGER_REFUSED = "login-finger-refused"
    #: A supervisor deleted an officer's login finger from the sensor (the PIN still works).
    LOGIN_FINGER_REMOVED = "login-finger-removed"
    NO_SIGNATURE = "no-signature"
    APPROVAL = "approval"
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
    #: The notice of processing was read (to a guardian, for a child).
    NOTICE = "notice"
    #: A disability or an adaptation declared for the person.
    NEEDS = "needs"
    # the handover of printed cards (storage.handover)
    HANDOVER_BATCH = "handover-batch"
    HANDOVER_ACKNOWLEDGED = "handover-acknowledged"
    HANDOVER_RECEIVED = "handover-received"
    HANDOVER_NOT_MATCHED = "handover-not-matched"
