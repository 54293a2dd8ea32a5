"""`jemput-prov export --db postgresql://...`: the store's chains as files a kit folder holds.

Why the same layout as the collector's export: `jemput-prov verify FOLDER` checks the
result with no database at all, so what left the district can be checked anywhere.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from provisioning.district.store import DistrictStore
from storage.files import CERTIFICATE_NAME, record_name, write_atomic
from storage.record import record_hash


def export(store: DistrictStore, out_dir: str | os.PathLike[str], *, source: str) -> Path:
    """Write each chain's kit.cert and records (0600), and manifest.json with their SHA-256."""
    out = Path(out_dir)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
        "kits": [],
    }
    for chain in store.chains():
        folder = out / chain.folder
        folder.mkdir(mode=0o700, exist_ok=True)
        files = [(CERTIFICATE_NAME, chain.cert)]
        files += [(record_name(seq), data) for seq, data in store.record_bytes(chain)]
        for name, data in files:
            write_atomic(folder / name, data, replace=True)
        manifest["kits"].append(
            {
                "kit_id": chain.kit_id,
                "region": chain.region,
                "folder": folder.name,
                "certificate_sha256": chain.digest.hex(),
                "records": len(files) - 1,
                "files": {name: record_hash(data).hex() for name, data in files},
            }
        )
    path = out / "manifest.json"
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    write_atomic(path, text.encode("utf-8"), replace=True)
    return path
