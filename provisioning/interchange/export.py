"""`jemput-prov export --format nist|iso`: every live record as a file an AFIS reads.

Why each file is built whole in memory and then written by `storage.files.write_atomic`
(a temporary name, fsync, rename, mode 0600): a record that cannot be exported (a body that
does not open, an image the sensor cannot make) must leave no file at all, and an export cut
off half-way must leave only whole files.  Since every byte is derived from the records, an
export run again writes the same files; files of an earlier export that no longer belong
(a record voided since) are removed, so the folder holds exactly what the manifest lists.
The manifest is written last, with each file's SHA-256.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from provisioning.interchange import iso, nist
from provisioning.interchange.errors import UnfitRecord
from provisioning.interchange.images import load_wsq, prepare
from provisioning.interchange.source import LeftOut, LiveRecord, StoredChain, live_records
from storage.files import TEMP_SUFFIX, write_atomic
from storage.keys import Authority
from storage.record import record_hash
from storage.verify import Verifier


class Format(StrEnum):
    """The interchange formats `export` writes."""

    NIST = "nist"  # ANSI/NIST-ITL 1-2011 Update 2015, traditional encoding
    ISO = "iso"  # ISO/IEC 19794-4/-5:2011 in CBEFF XML (ISO/IEC 19785-3), as MOSIP

    @property
    def suffix(self) -> str:
        return {Format.NIST: ".an2", Format.ISO: ".cbeff.xml"}[self]

    @property
    def standard(self) -> str:
        return {
            Format.NIST: "ANSI/NIST-ITL 1-2011 Update 2015, traditional encoding",
            Format.ISO: "ISO/IEC 19794-4:2011 and 19794-5:2011 in CBEFF (ISO/IEC 19785-3) XML",
        }[self]

    @property
    def manifest(self) -> str:
        return f"manifest-{self.value}.json"


@dataclass(frozen=True)
class Written:
    """One file of the export, by its path under the export folder."""

    name: str
    sha256: str
    kit_id: str
    seq: int
    reference: str


@dataclass
class ExportResult:
    """What an export wrote, removed and left out; ``manifest`` is its manifest's path."""

    manifest: Path
    written: list[Written] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)

    @property
    def problems(self) -> list[LeftOut]:
        """What stays out because it is damaged or untrusted (the export exits 1)."""
        return [item for item in self.left_out if item.problem]


def source_name(target: str) -> str:
    """How the manifest names the database: a URL without its password and query."""
    parts = urlsplit(target)
    if not parts.scheme or parts.password is None:
        return target.split("?")[0]
    host = parts.hostname or ""
    port = "" if parts.port is None else f":{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}{port}", query=""))


def _file_bytes(record: LiveRecord, fmt: Format, agencies: nist.Agencies) -> bytes:
    """The record's file, built whole before anything is written; UnfitRecord if it cannot be."""
    biometrics = prepare(record.enrolment)
    if fmt is Format.NIST:
        return nist.transaction(record, biometrics, agencies)
    return iso.cbeff(record, biometrics)


def _stale(out: Path, fmt: Format, kept: set[Path]) -> list[Path]:
    """Files of this format under ``out`` that this export did not write, and leftovers of
    writes cut off (``*.tmp``)."""
    found = [
        path
        for folder in sorted(out.iterdir())
        if folder.is_dir()
        for path in sorted(folder.iterdir())
        if (path.name.endswith(fmt.suffix) and path not in kept) or path.suffix == TEMP_SUFFIX
    ]
    found += sorted(out.glob(f"*{TEMP_SUFFIX}"))
    return found


def _manifest(fmt: Format, source: str, result: ExportResult) -> bytes:
    document = {
        "format": fmt.value,
        "standard": fmt.standard,
        "source": source,
        "files": [
            {
                "file": item.name,
                "sha256": item.sha256,
                "kit_id": item.kit_id,
                "seq": item.seq,
                "reference": item.reference,
            }
            for item in result.written
        ],
        "left_out": [
            {"kit_id": item.kit_id, "seq": item.seq, "reason": item.reason, "problem": item.problem}
            for item in result.left_out
        ],
    }
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def export(
    chains: Sequence[StoredChain],
    authority: Authority,
    out_dir: str | os.PathLike[str],
    fmt: Format,
    agencies: nist.Agencies,
    *,
    source: str,
) -> ExportResult:
    """Write one ``fmt`` file per live record of ``chains`` under ``out_dir``, and the manifest.

    ``source`` names the database in the manifest (no password in it).  Records that stay
    out are in ``left_out``; a codec that is not installed raises `CodecMissing` before
    anything is written.
    """
    load_wsq()  # both codecs before the first file, not after it
    if fmt is Format.NIST:
        nist.load_writer()
    out = Path(out_dir)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    verifier = Verifier(authority.public)
    result = ExportResult(manifest=out / fmt.manifest)
    kept: set[Path] = set()
    for chain in chains:
        for item in live_records(chain, authority, verifier):
            if isinstance(item, LeftOut):
                result.left_out.append(item)
                continue
            try:
                data = _file_bytes(item, fmt, agencies)
            except UnfitRecord as exc:
                reason = f"{exc}; tidak diekspor"
                result.left_out.append(
                    LeftOut(item.certificate.kit_id, item.header.seq, reason, True)
                )
                continue
            folder = out / item.folder
            folder.mkdir(mode=0o700, exist_ok=True)
            path = folder / f"{item.header.seq:08d}{fmt.suffix}"
            write_atomic(path, data, replace=True)
            kept.add(path)
            result.written.append(
                Written(
                    name=f"{item.folder}/{path.name}",
                    sha256=record_hash(data).hex(),
                    kit_id=item.certificate.kit_id,
                    seq=item.header.seq,
                    reference=item.reference,
                )
            )
    result.removed = _stale(out, fmt, kept)
    for path in result.removed:
        path.unlink()
    write_atomic(result.manifest, _manifest(fmt, source, result), replace=True)
    return result
