"""`jemput-prov update`: send a release bundle to a kit, which installs it and restarts.

Why the tool opens the bundle first: a bundle the kit would refuse (another authority's
release key, a file altered since it was built) is named here, before minutes of sending.
The kit checks all of it again: the tool is not trusted for it.  The bundle goes in
``update-part`` requests of `kitlink.messages.CHUNK` bytes under one random transfer id,
then one ``update`` names the transfer, its size and SHA-256, and the minimum versions the
authority sets (signed with the request).  The kit answers once the release is in its
inactive slot, and restarts into it; `status` tells later whether it was committed or
rolled back (docs/updates.md).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from kitlink import messages as m
from kitlink.framing import FramedPort
from kitlink.messages import TRANSFER_BYTES
from kitlink.release import Bundle, Version, open_bundle
from provisioning.collect import connect
from storage.keys import Authority


def check(path: Path, authority: Authority, *, now: datetime) -> Bundle:
    """The bundle at ``path`` as a kit of ``authority`` will check it (ReleaseError if not)."""
    bundle = open_bundle(path, authority.public, at=now)
    bundle.check()
    return bundle


def send(
    port: FramedPort,
    authority: Authority,
    bundle: Path,
    *,
    minimum: Version | None = None,
    pico_minimum: Version | None = None,
    progress: Callable[[int, int], None] = lambda sent, total: None,
) -> m.UpdateResult:
    """Send the bundle file ``bundle`` to the kit on ``port`` and have it installed (the
    kit checks all of it: see `check` for the tool's look first); what the kit installed."""
    client, _, _ = connect(port, authority)
    size = bundle.stat().st_size
    transfer = os.urandom(TRANSFER_BYTES)
    digest = hashlib.sha256()
    progress(0, size)
    with bundle.open("rb") as file:
        offset = 0
        while chunk := file.read(m.CHUNK):
            client.call(m.UpdatePartArgs(transfer, offset, chunk))
            digest.update(chunk)
            offset += len(chunk)
            progress(offset, size)
    args = m.UpdateArgs(transfer, size, digest.digest(), minimum, pico_minimum)
    return client.call(args).result
