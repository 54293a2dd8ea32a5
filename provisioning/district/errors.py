"""The district store's exception tree: one root, leaves that also inherit builtins."""

from __future__ import annotations

from storage.errors import StorageError


class DistrictError(StorageError):
    """Anything the district store refuses or cannot do."""


class StoreUnreachable(DistrictError, ConnectionError):
    """The database server does not answer, or refuses the login."""


class NotADistrictStore(DistrictError, ValueError):
    """The database holds no district schema, or one of another version."""


class ClusterError(DistrictError, OSError):
    """A local PostgreSQL cluster could not be made, started or stopped."""


class LaptopRefused(DistrictError, ValueError):
    """A laptop's collector database that fails its audit: nothing of it is synced.

    ``rows`` names each problem by table and row, as `jemput-prov verify` does.
    """

    def __init__(self, message: str, rows: list[str]) -> None:
        super().__init__(message)
        self.rows = rows


class StoreRefused(DistrictError, ValueError):
    """A district store that fails its audit: nothing is reported from it."""
