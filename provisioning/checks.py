"""What `jemput-prov verify`, `open` and `worklist check` do, apart from printing.

Why apart from the CLI: the collector and the tests need the same answers (which folder
holds a kit's records, what a kit's chain adds up to, what a record holds) without a
terminal, and the CLI stays a thin layer that only formats them.  All trust decisions are
`storage.verify.Verifier`'s; this module only finds the files and gathers the results.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from storage.errors import RecordError, StorageError
from storage.files import CERTIFICATE_NAME, RECORD_SUFFIX, write_atomic
from storage.keys import AUTHORITY_PUBLIC_FILE, Authority, AuthorityPublic
from storage.model import Enrolment, Resident
from storage.record import RecordHeader, open_record, read_header
from storage.reference import ReferenceKey
from storage.verify import (
    CertificateError,
    ChainReport,
    ForeignCertificate,
    Verifier,
    verify_folder,
)

#: A collector's database; verifying one comes with `jemput-prov collect`.
COLLECTOR_SUFFIX = ".db"
RECORDS_FOLDER = "records"
UNKNOWN_KIT = "unknown"

#: ISO/IEC 19794-4 finger positions, as an officer would name them.
POSITION_NAMES: dict[int, str] = {
    1: "right thumb",
    2: "right index",
    3: "right middle",
    4: "right ring",
    5: "right little",
    6: "left thumb",
    7: "left index",
    8: "left middle",
    9: "left ring",
    10: "left little",
}


class WrongPath(StorageError, ValueError):
    """A path on the command line that does not hold what the command needs."""


class WrongAuthority(WrongPath):
    """Nothing verifies under the authority folder given: the kit certificates name another."""


def check_authority(
    authority: AuthorityPublic, verified: int, problems: Iterable[Exception]
) -> None:
    """WrongAuthority when no kit certificate verified and some name another authority.

    Why one line instead of the problems: records, ledgers and statements checked against
    the wrong key each fail, and a list of a kit's every row "removed, edited or fails"
    hides the one mistake, the folder given; the certificates name the key that signed
    them, which is what the technician needs to find the right folder.
    """
    issuers = sorted({p.issuer for p in problems if isinstance(p, ForeignCertificate) and p.issuer})
    if verified or not issuers:
        return
    raise WrongAuthority(
        f"nothing here is of authority {authority.name!r} (kid {authority.kid.hex()}): the "
        f"kit certificates are signed by authority key {', '.join(issuers)}; give --authority "
        "the folder of the authority that flashed these kits (`jemput-prov verify` shows a "
        "folder's kid in its first line)"
    )


@dataclass(frozen=True)
class KitReport:
    """One kit's verification: the folder its records came from and what they add up to."""

    folder: Path
    chain: ChainReport

    @property
    def ok(self) -> bool:
        return self.chain.ok

    @property
    def problems(self) -> list[tuple[Path, RecordError]]:
        """Each problem with the full path of the file it concerns."""
        return [(self.folder / name, exc) for name, exc in self.chain.problems]


@dataclass(frozen=True)
class OpenedRecord:
    """A decrypted record; ``signed_by`` is the kit whose certificate checked its signature.

    ``signed_by`` is None when no ``kit.cert`` lay beside the record: the body opened, but
    nobody checked that the kit signed it.
    """

    path: Path
    header: RecordHeader
    enrolment: Enrolment
    signed_by: str | None


def position_name(position: int) -> str:
    return POSITION_NAMES.get(position, f"position {position}")


def _authority_dir(directory: Path) -> Path:
    if not directory.is_dir():
        raise WrongPath(
            f"authority folder {directory} does not exist: give the folder "
            "`jemput-prov authority init` made"
        )
    if not (directory / AUTHORITY_PUBLIC_FILE).is_file():
        raise WrongPath(
            f"{directory} is not an authority folder (no {AUTHORITY_PUBLIC_FILE}): give the "
            "folder `jemput-prov authority init` made"
        )
    return directory


def load_authority_public(directory: str | os.PathLike[str]) -> AuthorityPublic:
    """The authority's public keys, enough to verify; KeyFileError if the file is damaged."""
    return AuthorityPublic.load(_authority_dir(Path(directory)))


def load_references(directory: str | os.PathLike[str]) -> ReferenceKey:
    """The authority's reference key, which matches record headers to worklists;
    ReferenceKeyError naming the file and what to do when it is missing or damaged."""
    return ReferenceKey.load(_authority_dir(Path(directory)))


def load_authority(directory: str | os.PathLike[str]) -> Authority:
    """The authority's private keys, needed to open bodies; KeyFileError on bad key files."""
    return Authority.load(_authority_dir(Path(directory)))


def _records_folder(directory: Path) -> Path | None:
    """``directory``'s records folder (its ``records/`` or itself), if it holds a kit's files."""
    for candidate in (directory / RECORDS_FOLDER, directory):
        if candidate.is_dir() and (
            (candidate / CERTIFICATE_NAME).is_file() or any(candidate.glob("*" + RECORD_SUFFIX))
        ):
            return candidate
    return None


def kit_folders(directory: Path) -> list[Path]:
    """The records folders in ``directory``: its own, or those of the kits one level down."""
    own = _records_folder(directory)
    if own is not None:
        return [own]
    found = [
        folder
        for child in sorted(directory.iterdir())
        if child.is_dir() and (folder := _records_folder(child)) is not None
    ]
    if not found:
        raise WrongPath(
            f"{directory} holds no kit records (no {CERTIFICATE_NAME}, no *{RECORD_SUFFIX}): "
            "give a record file, a kit's records folder or its data folder"
        )
    return found


def _certificate_failed(folder: Path, exc: CertificateError) -> KitReport:
    return KitReport(folder, ChainReport(kit_id=UNKNOWN_KIT, problems=[(CERTIFICATE_NAME, exc)]))


def verify_items(
    folder: Path, items: list[tuple[str, bytes]], certificate: bytes, authority: AuthorityPublic
) -> KitReport:
    """Named records of one kit (a collector's, say) verified as a chain from ``certificate``."""
    try:
        return KitReport(folder, Verifier(authority).verify_chain(items, certificate))
    except CertificateError as exc:
        return _certificate_failed(folder, exc)


def verify_kit_folder(folder: Path, authority: AuthorityPublic) -> KitReport:
    """A kit's records folder verified as a chain from its certificate."""
    try:
        return KitReport(folder, verify_folder(folder, authority))
    except CertificateError as exc:
        return _certificate_failed(folder, exc)


def verify_record_file(path: Path, authority: AuthorityPublic) -> KitReport:
    """One record on its own (no chain), against the ``kit.cert`` beside it."""
    folder = path.parent
    cert_path = folder / CERTIFICATE_NAME
    if not cert_path.is_file():
        raise WrongPath(
            f"{folder} has no {CERTIFICATE_NAME}: a record verifies only beside its kit's "
            f"certificate; copy the kit's records/{CERTIFICATE_NAME} next to {path.name}"
        )
    verifier = Verifier(authority)
    try:
        certificate = verifier.certificate(cert_path.read_bytes())
    except CertificateError as exc:
        return _certificate_failed(folder, exc)
    chain = ChainReport(kit_id=certificate.kit_id)
    try:
        header = verifier.verify_record(path.read_bytes(), certificate)
    except RecordError as exc:
        chain.problems.append((path.name, exc))
    else:
        chain.count, chain.first, chain.last = 1, header.seq, header.seq
    return KitReport(folder, chain)


def verify_path(path: str | os.PathLike[str], authority: AuthorityPublic) -> list[KitReport]:
    """Verify whatever ``path`` is: a record file, a kit's folder, or a folder of kits."""
    path = Path(path)
    if path.suffix == COLLECTOR_SUFFIX:
        raise WrongPath(f"{path}: no such collector database (made by `jemput-prov collect`)")
    if path.is_file():
        reports = [verify_record_file(path, authority)]
    elif path.is_dir():
        reports = [verify_kit_folder(folder, authority) for folder in kit_folders(path)]
    else:
        raise WrongPath(
            f"{path} does not exist: give a record file, a kit's records folder or its data folder"
        )
    check_authority(
        authority,
        sum(report.chain.kit_id != UNKNOWN_KIT for report in reports),
        (exc for report in reports for _, exc in report.problems),
    )
    return reports


def open_record_file(path: str | os.PathLike[str], authority: Authority) -> OpenedRecord:
    """Decrypt a record file; with a ``kit.cert`` beside it, its signature is checked first.

    Raises a RecordError leaf when the record does not verify or its body does not open.
    """
    path = Path(path)
    if not path.is_file():
        raise WrongPath(f"record file {path} does not exist")
    cert_path = path.parent / CERTIFICATE_NAME
    certificate = cert_path.read_bytes() if cert_path.is_file() else None
    return open_verified(path, path.read_bytes(), certificate, authority)


def open_verified(
    path: Path, data: bytes, certificate: bytes | None, authority: Authority
) -> OpenedRecord:
    """Decrypt record ``data``; given its kit's ``certificate``, its signature is checked first.

    ``path`` only names the record in the result.  Raises a RecordError leaf when the
    record does not verify or its body does not open.
    """
    signed_by = None
    if certificate is None:
        header = read_header(data)
    else:
        verifier = Verifier(authority.public)
        kit = verifier.certificate(certificate)
        header = verifier.verify_record(data, kit)
        signed_by = kit.kit_id
    # the authority's reference key checks a version-3 header's keyed reference too
    return OpenedRecord(path, header, open_record(data, authority, authority.references), signed_by)


def export_images(enrolment: Enrolment, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write face.jpg, finger-<pos>.png and signature.png (those captured) into ``out_dir``."""
    folder = Path(out_dir)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    images: list[tuple[str, bytes | None]] = [
        ("face.jpg", enrolment.face_jpeg),
        *((f"finger-{f.position}.png", f.image_png) for f in enrolment.fingers),
        ("signature.png", enrolment.signature_png),
    ]
    written = []
    for name, data in images:
        if data is not None:
            write_atomic(folder / name, data, replace=True)  # 0600: biometrics in clear
            written.append(folder / name)
    return written


def village_summary(residents: Iterable[Resident]) -> list[tuple[str, str, str, int]]:
    """(kabupaten/kota, kecamatan, kelurahan/desa, residents) per village, in that order."""
    counts = Counter((r.regency, r.district, r.village) for r in residents)
    return [(*place, count) for place, count in sorted(counts.items())]
