"""The TPM backend: a kit key generated inside a TPM 2.0, which never leaves the chip.

Why a TPM: a key file is copied with the SD card, and with it anyone signs records in the
kit's name.  Here the kit's P-256 key is created by the TPM under its storage primary key;
what the kit keeps on the card (``kit/kit.tpm``) is the key's public part and its private
part *wrapped by the TPM's own storage key*: useless on any other TPM, and on this one
only after the TPM re-creates the same primary from its internal seed.  Nothing on the
card signs anything.  TPM 2.0 has no Ed25519, so such a kit signs ES256 (COSE alg -7).

The primary is not kept in a persistent handle, nor loaded between uses: it is
re-created from the standard template for each use and flushed after it, like every
object and session the kit loads (`Tpm.flushed`).  Without a resource manager (swtpm,
``/dev/tpm0``) a TPM keeps what a client loaded after the client has gone, and has room
for three transient objects: a process that left its primary loaded made the third boot
fail with "out of memory for object contexts".  Re-creating an ECC primary derives it
from the TPM's seed again, which costs one TPM command per use, and leaves no TPM slot to
clean up at a reflash.

The key has no password (the kit boots unattended); what protects it is that it cannot be
exported (``fixedTPM``/``fixedParent``) and was born inside the chip
(``sensitiveDataOrigin``), which `TpmKitKey.load` checks again on every boot.

On a Pi the TPM is a module on the SPI header (e.g. Infineon SLB 9670, kernel
``tpm_tis_spi``) reached as ``device:/dev/tpmrm0`` through the kernel's resource manager;
the tests use ``swtpm``, the reference software TPM, as ``swtpm:host=...,port=...``.
`tpm2-pytss` is imported only here and only when a TPM is opened, so a kit or a developer
without a TPM runs the file backend with no TSS libraries installed.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ec

from storage.codec import CodecError, dumps, loads
from storage.cose import SignAlg, es256_digest, es256_signature
from storage.errors import KeyFileError, StorageError
from storage.files import write_atomic
from storage.keys import KeyBackend, kid_of, p256_public_bytes

if TYPE_CHECKING:
    from tpm2_pytss import ESAPI

#: Where a real kit finds its TPM: the kernel resource manager, shared safely by processes.
DEFAULT_TCTI = "device:/dev/tpmrm0"
#: What ``kit/kit.tpm`` holds (see `TpmKeyBlob`); bumped if the template ever changes.
BLOB_VERSION = 1
BLOB_FILE = "kit.tpm"
#: The parent: the TCG's standard ECC P-256 storage root key template, owner hierarchy.
PARENT = "owner/ecc256:aes128cfb"


class TpmError(StorageError, OSError):
    """The TPM is missing, refused a command, or its key blob does not belong to it."""


def _tss() -> Any:
    """tpm2-pytss, imported only when a TPM is used, with advice when it is missing."""
    try:
        import tpm2_pytss
    except ImportError as exc:  # the file backend needs none of it
        raise TpmError(
            "tpm2-pytss is not installed: install the kit with `pip install '.[tpm]'` "
            "(it needs Debian's libtss2-dev), or run the simulator with the file backend"
        ) from exc
    return tpm2_pytss


def _attributes(tss: Any) -> Any:
    """The signing key's attributes: not exportable, born in the TPM, signs, nothing else."""
    a = tss.constants.TPMA_OBJECT
    return a.FIXEDTPM | a.FIXEDPARENT | a.SENSITIVEDATAORIGIN | a.USERWITHAUTH | a.SIGN_ENCRYPT


class Tpm:
    """An open connection to a TPM 2.0; a context manager, and `close` is safe twice.

    ``tcti`` names the transport as tpm2-tss does: ``device:/dev/tpmrm0`` on a Pi,
    ``swtpm:host=127.0.0.1,port=2321`` for the software TPM.
    """

    def __init__(self, tcti: str = DEFAULT_TCTI) -> None:
        self.tcti = tcti
        tss = _tss()
        name, _, config = tcti.partition(":")
        try:
            self._esapi: ESAPI | None = tss.ESAPI(tss.TCTILdr(name, config or None))
        except tss.TSS2_Exception as exc:
            raise TpmError(
                f"no TPM answers on {tcti!r} ({exc}): on a Pi check the TPM module on the SPI "
                "header and `dtoverlay=tpm-slb9670` in /boot/firmware/config.txt; for the "
                "simulator use the file backend"
            ) from exc
        self.tss = tss
        #: Held for one command, or for a sequence that must not interleave (load, sign, flush).
        self.commands = threading.RLock()

    def answers(self) -> bool:
        """Whether the TPM still answers on this connection (one small command)."""
        try:
            self.call("answer", lambda: self.esapi.get_random(1))
        except TpmError:
            return False
        return True

    @property
    def closed(self) -> bool:
        return self._esapi is None

    @property
    def esapi(self) -> ESAPI:
        if self._esapi is None:
            raise TpmError(f"the TPM connection on {self.tcti!r} is closed")
        return self._esapi

    @contextmanager
    def flushed(self, what: str, command: Callable[[], Any]) -> Iterator[Any]:
        """The object or session ``command`` loads into the TPM, flushed when the block ends.

        Why every load goes through here: without a resource manager nothing else flushes
        it, not even the end of the process, and the TPM has room for three objects.  The
        command lock is held throughout, so load, use and flush are one step.
        """
        with self.commands:
            handle = self.call(what, command)
            try:
                yield handle
            finally:
                self.call(
                    f"flush what it loaded to {what}", lambda: self.esapi.flush_context(handle)
                )

    def primary(self) -> contextlib.AbstractContextManager[Any]:
        """The storage primary key, re-created from its template (the same on every boot)
        for one use: ``with tpm.primary() as parent: ...``."""
        tss = self.tss
        public = tss.types.TPM2B_PUBLIC.parse(
            "ecc256:aes128cfb",
            objectAttributes=tss.constants.TPMA_OBJECT.DEFAULT_TPM2_TOOLS_CREATEPRIMARY_ATTRS,
        )
        return self.flushed(
            "create the storage primary key",
            lambda: self.esapi.create_primary(None, public, tss.constants.ESYS_TR.OWNER)[0],
        )

    def call(self, what: str, command: Any) -> Any:
        """Run one TPM command; a TSS error becomes a `TpmError` saying what failed."""
        try:
            with self.commands:
                return command()
        except self.tss.TSS2_Exception as exc:
            raise TpmError(f"the TPM on {self.tcti!r} could not {what}: {exc}") from exc

    def close(self) -> None:
        """Close the connection (nothing stays loaded between uses); safe twice."""
        esapi, self._esapi = self._esapi, None
        if esapi is not None:
            esapi.close()

    def __enter__(self) -> Tpm:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._esapi is None else "open"
        return f"Tpm(tcti={self.tcti!r}, {state})"


_shared: dict[str, Tpm] = {}
_shared_lock = threading.Lock()


def shared_tpm(tcti: str = DEFAULT_TCTI) -> Tpm:
    """The process's one open connection to the TPM on ``tcti``, opened on first use.

    Why shared: the kit's signing key, its data key and the provisioning port all use the
    TPM from one process, and swtpm (like /dev/tpm0 without the kernel's resource manager)
    serves one client at a time; a second connection would wait forever.
    """
    with _shared_lock:
        tpm = _shared.get(tcti)
        if tpm is not None and not tpm.closed and not tpm.answers():
            # the TPM went away (swtpm restarted): drop the dead link, connect afresh or say so
            with contextlib.suppress(TpmError):
                tpm.close()
        if tpm is None or tpm.closed:
            tpm = _shared[tcti] = Tpm(tcti)
        return tpm


class TpmKitKey:
    """The kit's P-256 signing key inside ``tpm``; satisfies `storage.keys.KitSigner`.

    ``public`` and ``private`` are the TPM's marshalled TPM2B_PUBLIC and TPM2B_PRIVATE
    (the latter wrapped by the TPM's storage key), as kept in ``kit/kit.tpm``.  With
    ``owns_tpm`` the key closes the TPM connection when it is closed itself.
    """

    alg = SignAlg.ES256
    backend = KeyBackend.TPM

    def __init__(self, tpm: Tpm, *, public: bytes, private: bytes, owns_tpm: bool = False) -> None:
        self._tpm = tpm
        self._owns_tpm = owns_tpm
        tss = tpm.tss
        try:
            self._public, _ = tss.types.TPM2B_PUBLIC.unmarshal(public)
            self._private, _ = tss.types.TPM2B_PRIVATE.unmarshal(private)
        except (tss.TSS2_Exception, ValueError, TypeError) as exc:
            raise KeyFileError(f"the TPM key blob does not unmarshal: {exc}") from exc
        self._check_template(tss)
        self.blob = TpmKeyBlob(public=public, private=private)
        self.public_key: ec.EllipticCurvePublicKey = self._ec_public(tss)
        self.public_bytes: bytes = p256_public_bytes(self.public_key)
        self.kid: bytes = kid_of(self.public_bytes)

    @classmethod
    def create(cls, tpm: Tpm, path: str | os.PathLike[str], *, owns_tpm: bool = False) -> TpmKitKey:
        """Generate a key inside the TPM and keep its wrapped blob at ``path`` (must not exist)."""
        target = Path(path)
        if os.path.lexists(target):
            raise KeyFileError(f"TPM key blob {target} already exists; refusing to overwrite it")
        tss = tpm.tss
        template = tss.types.TPM2B_PUBLIC.parse(
            "ecc256:ecdsa-sha256:null", objectAttributes=_attributes(tss)
        )
        with tpm.primary() as parent:
            private, public, *_ = tpm.call(
                "create the kit key", lambda: tpm.esapi.create(parent, None, template)
            )
        key = cls(tpm, public=public.marshal(), private=private.marshal(), owns_tpm=owns_tpm)
        write_atomic(target, key.blob.to_cbor())
        return key

    @classmethod
    def load(cls, tpm: Tpm, path: str | os.PathLike[str], *, owns_tpm: bool = False) -> TpmKitKey:
        """The key whose blob is at ``path``; the TPM must be the one that made it."""
        blob = TpmKeyBlob.load(path)
        key = cls(tpm, public=blob.public, private=blob.private, owns_tpm=owns_tpm)
        with key._loaded():  # fail at boot, not at the first seal, if this is another TPM
            pass
        return key

    def _check_template(self, tss: Any) -> None:
        """Refuse a blob that is not a non-exportable, TPM-born P-256 ECDSA signing key."""
        area = self._public.publicArea
        need = _attributes(tss)
        alg = tss.constants.TPM2_ALG
        scheme = area.parameters.eccDetail.scheme
        if not (
            area.type == alg.ECC
            and area.parameters.eccDetail.curveID == tss.constants.TPM2_ECC.NIST_P256
            and (int(area.objectAttributes) & int(need)) == int(need)
            and not int(area.objectAttributes) & int(tss.constants.TPMA_OBJECT.DECRYPT)
            and scheme.scheme in (alg.NULL, alg.ECDSA)
        ):
            raise KeyFileError(
                "the TPM key blob is not a non-exportable P-256 signing key made in the TPM: "
                "reflash the kit"
            )

    def _ec_public(self, tss: Any) -> ec.EllipticCurvePublicKey:
        point = self._public.publicArea.unique.ecc
        x = int.from_bytes(bytes(point.x), "big")
        y = int.from_bytes(bytes(point.y), "big")
        try:
            return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        except ValueError as exc:
            raise KeyFileError(f"the TPM key blob's public point is not on P-256: {exc}") from exc

    @contextmanager
    def _loaded(self) -> Iterator[Any]:
        """The key (and its parent, the primary) loaded into the TPM for one use, then both
        flushed: a TPM has room for only three transient objects, and without a resource
        manager it keeps them after the process that loaded them has gone."""
        tpm = self._tpm
        with (
            tpm.primary() as parent,
            tpm.flushed(
                "load the kit key (is this the kit's own TPM? a TPM that was cleared, or a "
                "card moved to another kit, cannot; reflash the kit)",
                lambda: tpm.esapi.load(parent, self._private, self._public),
            ) as handle,
        ):
            yield handle

    def sign(self, data: bytes) -> bytes:
        """ES256 over ``data``: SHA-256 here, ECDSA in the TPM, raw r||s back."""
        tss = self._tpm.tss
        scheme = tss.types.TPMT_SIG_SCHEME(scheme=tss.constants.TPM2_ALG.ECDSA)
        scheme.details.any.hashAlg = tss.constants.TPM2_ALG.SHA256
        digest = tss.types.TPM2B_DIGEST(es256_digest(data))
        with self._loaded() as handle:
            signature = self._tpm.call(
                "sign", lambda: self._tpm.esapi.sign(handle, digest, scheme, None)
            )
        ecdsa = signature.signature.ecdsa
        return es256_signature(
            int.from_bytes(bytes(ecdsa.signatureR), "big"),
            int.from_bytes(bytes(ecdsa.signatureS), "big"),
        )

    def close(self) -> None:
        """Close a TPM connection the key owns (nothing stays loaded); safe twice."""
        if self._owns_tpm:
            self._tpm.close()

    def __repr__(self) -> str:
        return f"TpmKitKey(kid={self.kid.hex()}, tcti={self._tpm.tcti!r})"


class TpmKeyBlob:
    """``kit/kit.tpm``: the TPM key's public part and TPM-wrapped private part, as CBOR."""

    def __init__(self, *, public: bytes, private: bytes) -> None:
        self.public = public
        self.private = private

    def to_cbor(self) -> bytes:
        return dumps(
            {"v": BLOB_VERSION, "parent": PARENT, "public": self.public, "private": self.private}
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TpmKeyBlob:
        target = Path(path)
        try:
            fields = loads(target.read_bytes())
        except FileNotFoundError as exc:
            raise KeyFileError(f"TPM key blob {target} is missing: flash the kit") from exc
        except CodecError as exc:
            raise KeyFileError(
                f"TPM key blob {target} is damaged ({exc}): reflash the kit"
            ) from exc
        if not (
            isinstance(fields, Mapping)
            and set(fields) == {"v", "parent", "public", "private"}
            and fields["v"] == BLOB_VERSION
            and fields["parent"] == PARENT
            and isinstance(fields["public"], bytes)
            and isinstance(fields["private"], bytes)
        ):
            raise KeyFileError(
                f"TPM key blob {target} is not a version-{BLOB_VERSION} blob under {PARENT}: "
                "reflash the kit"
            )
        return cls(public=fields["public"], private=fields["private"])
