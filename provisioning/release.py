"""`jemput-prov release`: a release key the authority certifies, and bundles built with it.

Why a release key apart from the authority's: bundles are built where the software is
built, while the authority's signing key stays offline.  ``release keygen`` makes the key
in a folder of its own and has the authority certify it once (the folder then holds
``release.key``, 0600, ``release.cert`` and a copy of the authority's public keys, so
``release build`` checks each bundle as the authority's kits will, before it ships).

A release carries the kit's software as the tree its Python runs from, under ``lib/`` of
the slot (docs/updates.md): each ``--software`` is a wheel, unpacked there as pip would
install it (``pip install --target``), or a folder copied there as it is (made with
``pip install --target DIR``).  ``--pico`` adds the Pico's firmware: the modules of a
``pico_micropython`` folder, its version read from its ``version.py``.
"""

from __future__ import annotations

import ast
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kitlink.release import (
    PICO_NAME,
    RELEASE_CERT_FILE,
    SOFTWARE_FOLDER,
    Bundle,
    ReleaseCertificate,
    Source,
    Version,
    build_bundle,
    certify_release_key,
    verify_release_certificate,
)
from storage.files import write_atomic
from storage.keys import AUTHORITY_PUBLIC_FILE, Authority, AuthorityPublic, ReleaseKey

#: The parts of a wheel's ``NAME.data/`` that belong on the Python path; the others
#: (scripts, headers, data) have no place in a slot: the kit runs ``python3 -m``.
WHEEL_LIBRARIES = ("purelib", "platlib")


class ReleaseBuildError(ValueError):
    """A release cannot be built from what was given; the message names the file."""


@dataclass(frozen=True)
class ReleaseFolder:
    """What `release keygen` left in a folder: the key, its certificate, the authority."""

    key: ReleaseKey
    certificate: bytes
    authority: AuthorityPublic


def keygen(
    folder: Path, authority: Authority, *, name: str, years: int, now: datetime
) -> ReleaseCertificate:
    """A new release key in ``folder``, certified by ``authority`` for ``years``."""
    key = ReleaseKey.create(folder)
    certificate = certify_release_key(authority, key, name=name, now=now, years=years)
    write_atomic(folder / RELEASE_CERT_FILE, certificate)
    write_atomic(folder / AUTHORITY_PUBLIC_FILE, authority.public.to_cbor())
    return verify_release_certificate(certificate, authority.public, at=now)


def load_folder(folder: Path) -> ReleaseFolder:
    """The release key folder ``folder``; KeyFileError or OSError naming what is missing."""
    return ReleaseFolder(
        ReleaseKey.load(folder),
        (folder / RELEASE_CERT_FILE).read_bytes(),
        AuthorityPublic.load(folder / AUTHORITY_PUBLIC_FILE),
    )


def software_sources(paths: list[Path]) -> list[Source]:
    """The files of every wheel and folder in ``paths``, under ``lib/``, each path once."""
    found: dict[str, tuple[Path, Source]] = {}
    for path in paths:
        for source in _wheel(path) if path.suffix == ".whl" else _tree(path):
            if source.path in found:
                raise ReleaseBuildError(
                    f"{source.path} comes from both {found[source.path][0]} and {path}: give "
                    "each package once"
                )
            found[source.path] = (path, source)
    if not found:
        raise ReleaseBuildError("no software: give --software with a wheel or a folder")
    return [source for _, source in sorted(found.values(), key=lambda pair: pair[1].path)]


def _wheel(path: Path) -> list[Source]:
    """A wheel's files as ``pip install --target`` lays them out."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ReleaseBuildError(f"{path} is not a wheel (a zip archive): {exc}") from exc
    sources = []
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            parts = info.filename.split("/")
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in WHEEL_LIBRARIES:
                    continue  # scripts, headers, data: see WHEEL_LIBRARIES
                parts = parts[2:]
            sources.append(Source(f"{SOFTWARE_FOLDER}/{'/'.join(parts)}", archive.read(info)))
    return sources


def _tree(folder: Path) -> list[Source]:
    if not folder.is_dir():
        raise ReleaseBuildError(f"{folder} is neither a wheel (.whl) nor a folder")
    sources = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            raise ReleaseBuildError(
                f"{path} is a symbolic link: a release holds files only (copy what it points to)"
            )
        if path.is_file() and "__pycache__" not in path.parts:
            relative = path.relative_to(folder).as_posix()
            sources.append(Source(f"{SOFTWARE_FOLDER}/{relative}", path.read_bytes()))
    return sources


def pico_sources(folder: Path) -> tuple[Version, list[Source]]:
    """The Pico firmware's modules in ``folder`` and the version its ``version.py`` declares."""
    modules = sorted(path for path in folder.glob("*.py") if PICO_NAME.fullmatch(path.name))
    if not (folder / "version.py").is_file():
        raise ReleaseBuildError(f"{folder} holds no version.py: give the pico_micropython folder")
    declared: dict[str, object] = {}
    for node in ast.parse((folder / "version.py").read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    declared[target.id] = node.value.value
    try:
        version = Version.parse(f"{declared['MAJOR']}.{declared['MINOR']}.{declared['PATCH']}")
    except (KeyError, ValueError) as exc:
        raise ReleaseBuildError(
            f"{folder / 'version.py'} does not declare MAJOR, MINOR and PATCH: {exc}"
        ) from exc
    return version, [Source(path.name, path.read_bytes()) for path in modules]


def build(
    out: Path,
    folder: ReleaseFolder,
    *,
    version: Version,
    software: list[Path],
    pico: Path | None,
    now: datetime,
) -> Bundle:
    """Build the bundle of ``version`` into ``out`` and check it as a kit would."""
    return build_bundle(
        out,
        key=folder.key,
        certificate=folder.certificate,
        authority=folder.authority,
        version=version,
        software=software_sources(software),
        pico=pico_sources(pico) if pico is not None else None,
        now=now,
    )
