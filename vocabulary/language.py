"""The two languages Jemput speaks: Bahasa Indonesia first, English as the switch.

Here rather than in `capture.prompts` because the kit's screens and the office's reports
(`provisioning.district`) both choose by it, and `provisioning` may not import `capture`.
"""

from __future__ import annotations

import enum


class Language(enum.Enum):
    ID = "id"
    EN = "en"
