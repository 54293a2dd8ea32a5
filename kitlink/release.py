"""Release bundles: the kit's software and the Pico's firmware, signed, in one file.

Why a bundle of our own and not a tarball with a signature beside it: the kit must be able
to say "no" before it writes a single byte into a slot, and say why in words a technician
can act on.  So the signed part comes first and is small: a certificate by which the
authority vouches for a release key, and a manifest that key signed, naming the version,
what the bundle is for, and each file's path, size and SHA-256.  The files' bytes follow,
in the manifest's order, unsigned themselves: the manifest's hashes cover them.  This is
RAUC's model (a signed manifest of hashed images, checked before anything is installed)
without its X.509 and squashfs, which a Pi kit's Python and a Pico have no use for.

A bundle on disk::

    "JMRB" | format (1) | header length (4, big-endian) | header | file bytes ...

The header is a CBOR map ``{"cert": release certificate, "manifest": COSE_Sign1}``.  The
release certificate is a COSE_Sign1 by the authority (content type
``application/jemput-release-cert+cbor``) over ``{"v", "name", "key", "nbf", "exp",
"iss"}``; the manifest a COSE_Sign1 by the release key (content type
``application/jemput-release+cbor``) over ``{"v", "compatible", "version", "built",
"files": [[path, size, sha256]], "pico": null | {"version", "files": [[name, size,
sha256]]}}``.  Software paths are relative to the slot (``lib/...``: the folder the kit's
Python finds its packages in); Pico files are the firmware's flat module names.

Both ends use this module: `jemput-prov release` builds and checks bundles
(`provisioning.release`), the kit opens them before installing (`firmware.update`).  The
layout, the keys and the rules are in docs/updates.md.
"""

from __future__ import annotations

import hashlib
import os
import re
import reprlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from kitlink.protocol import DIGEST_BYTES, Fields, MessageError, seconds
from storage.codec import MAX_BYTES, Tampered, dumps, loads
from storage.cose import HDR_CONTENT_TYPE, BadSignature, WrongKey, open_sign1, parse_sign1, sign1
from storage.errors import RecordError
from storage.keys import Authority, AuthorityPublic, ReleaseKey, kid_of, kit_public_key

MAGIC = b"JMRB"
FORMAT = 1
#: magic, format, header length
PREAMBLE_BYTES = len(MAGIC) + 1 + 4
#: What a bundle is for: a kit refuses one built for anything else.
COMPATIBLE = "jemput-kit"
CERT_TYPE = "application/jemput-release-cert+cbor"
MANIFEST_TYPE = "application/jemput-release+cbor"
CERT_VERSION = 1
MANIFEST_VERSION = 1
#: The file that holds a release key's certificate, beside `storage.keys.RELEASE_KEY_FILE`.
RELEASE_CERT_FILE = "release.cert"
#: How long the authority vouches for a release key unless told otherwise.
RELEASE_KEY_YEARS = 2

#: Limits that keep a hostile header from costing the kit its memory: files per bundle,
#: bytes per file (the kit holds one file in memory while it writes it), path lengths.
MAX_FILES = 50_000
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_PATH = 400
#: The folder of the slot that holds the software: on the kit's Python path.
SOFTWARE_FOLDER = "lib"
#: A Pico module name: flat, lower case, ``.py``, short enough for the Pico's OPEN frame.
PICO_NAME = re.compile(r"[a-z_][a-z0-9_]{0,20}\.py", re.ASCII)
#: The Pico's boot stub: flashed once by hand, never carried by a bundle (docs/updates.md).
PICO_STUB = "main.py"
_VERSION = re.compile(r"(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})", re.ASCII)
_PART = re.compile(r"[A-Za-z0-9_.+-]{1,100}", re.ASCII)
_READ_BYTES = 1024 * 1024


class ReleaseError(RecordError):
    """A release bundle or release certificate that cannot be trusted or installed."""


class MalformedBundle(ReleaseError, Tampered):
    """Bytes that are not a release bundle of this format."""


class UntrustedRelease(ReleaseError):
    """A bundle whose certificate or signature does not lead back to the authority."""


class DamagedBundle(ReleaseError):
    """A bundle whose file bytes do not match the sizes and hashes its manifest signed."""


@dataclass(frozen=True, order=True)
class Version:
    """A release's version, MAJOR.MINOR.PATCH, compared part by part (1.10.0 > 1.9.3)."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: object) -> Version:
        """``text`` as a version; MessageError naming what a version looks like otherwise."""
        match = _VERSION.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise MessageError(
                f"version {reprlib.repr(text)} is not MAJOR.MINOR.PATCH (e.g. 1.2.0, each "
                "part 0-9999 without leading zeros)"
            )
        return cls(*(int(part) for part in match.groups()))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


# -- the release certificate ------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseCertificate:
    """The authority's word that ``key`` may sign releases, from ``not_before`` to ``not_after``."""

    name: str
    key: bytes
    not_before: datetime
    not_after: datetime
    data: bytes

    @property
    def kid(self) -> bytes:
        return kid_of(self.key)


def certify_release_key(
    authority: Authority, key: ReleaseKey, *, name: str, now: datetime, years: int
) -> bytes:
    """A certificate for ``key`` (named ``name``: who builds with it), valid ``years`` from a
    day before ``now``."""
    claims = {
        "v": CERT_VERSION,
        "name": name,
        "key": key.public_bytes,
        "nbf": seconds(now - timedelta(days=1)),
        "exp": seconds(now + timedelta(days=365 * years)),
        "iss": authority.kid,
    }
    return sign1(dumps(claims), authority.signing_key, kid=authority.kid, content_type=CERT_TYPE)


def verify_release_certificate(
    data: bytes, authority: AuthorityPublic, *, at: datetime
) -> ReleaseCertificate:
    """The certificate, once the authority's signature, its fields and its window check out."""
    try:
        msg = open_sign1(data, authority.sign_public, kid=authority.kid)
        claims = loads(msg.payload)
    except WrongKey as exc:
        raise UntrustedRelease(
            f"the release key's certificate is signed by key {exc.found}, not by authority "
            f"{authority.name!r} ({authority.kid.hex()}): build the bundle with a release key "
            "this kit's authority certified (jemput-prov release keygen)"
        ) from exc
    except BadSignature as exc:
        raise UntrustedRelease(
            f"the release key's certificate does not verify under authority "
            f"{authority.name!r}: altered or forged"
        ) from exc
    except Tampered as exc:
        raise MalformedBundle(f"the release key's certificate does not decode: {exc}") from exc
    try:
        with Fields(claims, "the release key's certificate") as fields:
            version = fields.whole("v", low=CERT_VERSION, high=CERT_VERSION)
            certificate = ReleaseCertificate(
                name=fields.text("name", most=200),
                key=fields.raw("key", sizes=(32,)),
                not_before=fields.moment("nbf"),
                not_after=fields.moment("exp"),
                data=bytes(data),
            )
            issuer = fields.raw("iss", sizes=(len(authority.kid),))
    except MessageError as exc:
        raise MalformedBundle(str(exc)) from exc
    if msg.protected.get(HDR_CONTENT_TYPE) != CERT_TYPE or issuer != authority.kid or not version:
        raise MalformedBundle("the signed object is not a release key certificate")
    if not certificate.not_before <= at <= certificate.not_after:
        raise UntrustedRelease(
            f"the release key {certificate.name!r} is certified from "
            f"{certificate.not_before:%Y-%m-%d} to {certificate.not_after:%Y-%m-%d}, and the "
            f"kit's clock says {at:%Y-%m-%d}: check the kit's clock (jemput-prov settime), or "
            "build with a release key certified now"
        )
    return certificate


# -- the manifest -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileEntry:
    """One file of a release: where it goes, how long it is, its SHA-256."""

    path: str
    size: int
    sha256: bytes


@dataclass(frozen=True)
class PicoRelease:
    """The Pico's firmware a release carries: its version and its modules."""

    version: Version
    files: tuple[FileEntry, ...]


@dataclass(frozen=True)
class Release:
    """A verified manifest: what a bundle installs, and the signed bytes that say so."""

    version: Version
    built: datetime
    files: tuple[FileEntry, ...]
    pico: PicoRelease | None
    #: Who built it: the name the authority certified the release key under.
    signer: str
    #: The release certificate and the signed manifest, as the bundle carried them: a slot
    #: keeps both, and the kit verifies them again at every start.
    header: bytes

    @property
    def entries(self) -> tuple[FileEntry, ...]:
        """Every file in the order its bytes follow the header: software, then the Pico's."""
        return self.files + (self.pico.files if self.pico else ())


def check_path(path: object) -> str:
    """``path`` if it is a safe relative path inside a slot's software folder."""
    parts = path.split("/") if isinstance(path, str) else []
    if (
        not isinstance(path, str)
        or len(path) > MAX_PATH
        or len(parts) < 2
        or parts[0] != SOFTWARE_FOLDER
        or not all(_PART.fullmatch(part) and part not in (".", "..") for part in parts)
    ):
        raise MessageError(
            f"path {reprlib.repr(path)} is not a relative path under {SOFTWARE_FOLDER}/ of "
            f"ASCII names (letters, digits, _ . + -), at most {MAX_PATH} characters"
        )
    return path


def check_pico_name(name: object) -> str:
    if not isinstance(name, str) or not PICO_NAME.fullmatch(name) or name == PICO_STUB:
        raise MessageError(
            f"Pico file {reprlib.repr(name)} is not a firmware module name (e.g. app.py; "
            f"{PICO_STUB} is the boot stub, which no bundle carries)"
        )
    return name


def _entries(fields: Fields, name: str, check: Callable[[object], str]) -> tuple[FileEntry, ...]:
    rows = fields.items(name, most=MAX_FILES)
    entries = []
    for row in rows:
        if not isinstance(row, list | tuple) or len(row) != 3:
            fields.fail(f"{row!r:.80} in {name!r} is not [path, size, sha256]")
        path, size, digest = row
        if type(size) is not int or not 0 <= size <= MAX_FILE_BYTES:
            fields.fail(f"the size of {path!r:.80} is not 0..{MAX_FILE_BYTES} bytes")
        if not isinstance(digest, bytes) or len(digest) != DIGEST_BYTES:
            fields.fail(f"the SHA-256 of {path!r:.80} is not {DIGEST_BYTES} bytes")
        try:
            entries.append(FileEntry(check(path), size, digest))
        except MessageError as exc:
            fields.fail(str(exc))
    names = [entry.path for entry in entries]
    folders = {
        path.rsplit("/", depth)[0] for path in names for depth in range(1, path.count("/") + 1)
    }
    if len(set(names)) != len(names) or folders & set(names):
        fields.fail(f"{name!r} names a file twice, or a file where a folder of others is")
    return tuple(entries)


def _pico(value: object) -> PicoRelease | None:
    if value is None:
        return None
    with Fields(value, "the manifest's Pico firmware") as fields:
        version = fields.converted("version", Version.parse)
        files = _entries(fields, "files", check_pico_name)
    if not files:
        raise MessageError("the manifest's Pico firmware has no files")
    return PicoRelease(version, files)


def _manifest(payload: bytes) -> tuple[Version, datetime, tuple[FileEntry, ...], Any]:
    with Fields(loads(payload), "the release manifest") as fields:
        fields.whole("v", low=MANIFEST_VERSION, high=MANIFEST_VERSION)
        compatible = fields.text("compatible", most=100)
        if compatible != COMPATIBLE:
            fields.fail(
                f"the bundle is for {compatible!r}, not for a kit ({COMPATIBLE!r}): build it "
                "with jemput-prov release build"
            )
        return (
            fields.converted("version", Version.parse),
            fields.moment("built"),
            _entries(fields, "files", check_path),
            fields.converted("pico", _pico),
        )


def _parts(header: bytes) -> tuple[bytes, bytes]:
    """The release certificate and the signed manifest a header holds."""
    try:
        with Fields(loads(header), "the bundle's header") as fields:
            return (
                fields.raw("cert", sizes=range(1, MAX_BYTES)),
                fields.raw("manifest", sizes=range(1, MAX_BYTES)),
            )
    except (MessageError, Tampered) as exc:
        raise MalformedBundle(f"not a release bundle's header: {exc}") from exc


def _release(header: bytes, signer: str, payload: bytes) -> Release:
    try:
        version, built, files, pico = _manifest(payload)
    except (MessageError, Tampered) as exc:
        raise MalformedBundle(str(exc)) from exc
    return Release(version, built, files, pico, signer, bytes(header))


def read_header(header: bytes, authority: AuthorityPublic, *, at: datetime) -> Release:
    """The release a bundle's header describes, once everything in it checks out.

    The certificate must be the authority's and valid ``at`` (the kit's clock); the
    manifest must be signed by the certified key, be for a kit, and name its files
    safely.  Raises UntrustedRelease or MalformedBundle saying which and why.
    """
    cert_bytes, manifest_bytes = _parts(header)
    certificate = verify_release_certificate(cert_bytes, authority, at=at)
    try:
        msg = open_sign1(manifest_bytes, kit_public_key(certificate.key), kid=certificate.kid)
    except Tampered as exc:
        raise MalformedBundle(f"the release manifest does not decode: {exc}") from exc
    except BadSignature as exc:
        raise UntrustedRelease(
            f"the release manifest is not signed by the certified release key "
            f"{certificate.name!r}: altered after it was built, or signed by another key"
        ) from exc
    if msg.protected.get(HDR_CONTENT_TYPE) != MANIFEST_TYPE:
        raise MalformedBundle("the signed object is not a release manifest")
    return _release(header, certificate.name, msg.payload)


def installed_release(header: bytes) -> Release:
    """The release of a header the kit verified when it installed it, read again.

    Its signatures are not checked again: the header lies in the slot beside the code the
    kit runs, which whoever could alter one could alter too, and a certificate that has
    since expired must not make a kit forget which version it runs.
    """
    cert_bytes, manifest_bytes = _parts(header)
    try:
        signer = loads(parse_sign1(cert_bytes).payload)["name"]
        payload = parse_sign1(manifest_bytes).payload
    except (Tampered, KeyError, TypeError) as exc:
        raise MalformedBundle(f"the installed release's header does not decode: {exc}") from exc
    return _release(header, str(signer), payload)


# -- bundles on disk --------------------------------------------------------------------------


def _preamble(header: bytes) -> bytes:
    return MAGIC + bytes((FORMAT,)) + len(header).to_bytes(4, "big")


def read_preamble(file: BinaryIO, size: int) -> bytes:
    """The header bytes of the bundle open in ``file`` (``size`` bytes long)."""
    preamble = file.read(PREAMBLE_BYTES)
    if len(preamble) != PREAMBLE_BYTES or not preamble.startswith(MAGIC):
        raise MalformedBundle("not a Jemput release bundle (no JMRB at its start)")
    if preamble[len(MAGIC)] != FORMAT:
        raise MalformedBundle(
            f"a bundle of format {preamble[len(MAGIC)]}, not {FORMAT}: update the kit in steps"
        )
    length = int.from_bytes(preamble[-4:], "big")
    if not 0 < length <= min(MAX_BYTES, size - PREAMBLE_BYTES):
        raise MalformedBundle(f"the bundle's header of {length} bytes does not fit it")
    return file.read(length)


@dataclass(frozen=True)
class Bundle:
    """A bundle file whose header verified; its files' bytes are checked by `check`."""

    path: Path
    release: Release

    @property
    def payload_offset(self) -> int:
        return PREAMBLE_BYTES + len(self.release.header)

    def check(self) -> None:
        """Read every file's bytes once: DamagedBundle naming the first that does not match
        its size and SHA-256, or bytes beyond the last file."""
        expected = self.payload_offset + sum(entry.size for entry in self.release.entries)
        actual = self.path.stat().st_size
        if actual != expected:
            raise DamagedBundle(
                f"the bundle is {actual} bytes, its manifest accounts for {expected}: cut off "
                "or padded on the way; copy it again"
            )
        with self.path.open("rb") as file:
            file.seek(self.payload_offset)
            for entry in self.release.entries:
                digest = hashlib.sha256()
                left = entry.size
                while left:
                    chunk = file.read(min(left, _READ_BYTES))
                    digest.update(chunk)
                    left -= len(chunk)
                _same(entry, digest.digest())

    def contents(self) -> Iterator[tuple[FileEntry, bytes]]:
        """Each file and its bytes, in order, each checked against its hash as it is read."""
        with self.path.open("rb") as file:
            file.seek(self.payload_offset)
            for entry in self.release.entries:
                data = file.read(entry.size)
                _same(entry, hashlib.sha256(data).digest())
                yield entry, data


def _same(entry: FileEntry, digest: bytes) -> None:
    if digest != entry.sha256:
        raise DamagedBundle(
            f"{entry.path} in the bundle does not match the SHA-256 its manifest signed: the "
            "bundle was altered or damaged after it was built; build or copy it again"
        )


def open_bundle(path: Path, authority: AuthorityPublic, *, at: datetime) -> Bundle:
    """The bundle at ``path`` with its header verified (`read_header`); not yet its files."""
    size = path.stat().st_size
    with path.open("rb") as file:
        header = read_preamble(file, size)
    return Bundle(path, read_header(header, authority, at=at))


# -- building -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A file to put into a bundle: its path in the release, and where its bytes are now."""

    path: str
    data: bytes


def build_bundle(
    out: Path,
    *,
    key: ReleaseKey,
    certificate: bytes,
    authority: AuthorityPublic,
    version: Version,
    software: list[Source],
    pico: tuple[Version, list[Source]] | None,
    now: datetime,
) -> Bundle:
    """Write the bundle to ``out`` (mode 0600, replacing it) and open it as a kit would.

    The manifest is checked by the kit's own reader before anything is written, and the
    bundle written is opened and checked against ``authority`` (its public keys), so a
    bundle this builds is one the authority's kits accept.
    """
    manifest: dict[str, Any] = {
        "v": MANIFEST_VERSION,
        "compatible": COMPATIBLE,
        "version": str(version),
        "built": seconds(now),
        "files": _listed(software),
        "pico": None,
    }
    if pico is not None:
        manifest["pico"] = {"version": str(pico[0]), "files": _listed(pico[1])}
    payload = dumps(manifest)
    try:
        _manifest(payload)
    except MessageError as exc:
        raise MalformedBundle(f"the bundle cannot be built: {exc}") from exc
    signed = sign1(payload, key, kid=key.kid, content_type=MANIFEST_TYPE)
    header = dumps({"cert": certificate, "manifest": signed})
    out.unlink(missing_ok=True)
    with open(out, "xb", opener=_private) as file:
        file.write(_preamble(header) + header)
        for source in [*software, *(pico[1] if pico else [])]:
            file.write(source.data)
    bundle = open_bundle(out, authority, at=now)
    bundle.check()
    return bundle


def _listed(sources: list[Source]) -> list[list[Any]]:
    return [[each.path, len(each.data), hashlib.sha256(each.data).digest()] for each in sources]


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def describe(release: Release) -> str:
    """One line a technician reads: version, signer, files, the Pico's firmware."""
    pico = f", Pico firmware {release.pico.version}" if release.pico else ", no Pico firmware"
    return (
        f"release {release.version} by {release.signer!r}, built "
        f"{release.built:%Y-%m-%d %H:%M} UTC, {len(release.files)} file(s){pico}"
    )
