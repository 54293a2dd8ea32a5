"""Who is recorded and who records: a resident's sex as the card prints it, an officer's role.

Here rather than in `storage.model` because the simulated world (`hw_sim`) speaks them too,
and `hw_sim` may not import `storage`.
"""

from __future__ import annotations

import enum


class Sex(enum.Enum):
    """Jenis kelamin as printed on the card."""

    MALE = "LAKI-LAKI"
    FEMALE = "PEREMPUAN"


class Role(enum.Enum):
    """Who logs in: an officer records, a supervisor approves, the village official (kepala
    desa or kasi pemerintahan) is present and approves data corrections."""

    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    OFFICIAL = "official"
