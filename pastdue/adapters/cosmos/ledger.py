"""The sandbox gateway's ledger on Cosmos DB: one item per payment key, created once (a second create of a
key answers what the first stored)."""

from __future__ import annotations

from azure.cosmos import exceptions

from pastdue.adapters.cosmos.connection import transient_as_unavailable
from pastdue.adapters.gateway import Ledger, OutcomeUnknown
from pastdue.adapters.store import StoreUnavailable


class CosmosLedger(Ledger):
    def __init__(self, container):
        self._container = container

    def record_once(self, key: str, entry: dict) -> dict:
        try:
            with transient_as_unavailable():
                return self._container.create_item({"id": key, **entry})
        except StoreUnavailable as error:
            raise OutcomeUnknown(str(error)) from None  # as a processor timeout: same key again
        except exceptions.CosmosResourceExistsError:
            # It exists, so a point read is safe on the local stand-in too.
            return self._container.read_item(key, partition_key=key)
