"""The app's adapters over a faulty Cosmos client, for the fault suite."""

from __future__ import annotations

import dataclasses

from pastdue import bootstrap
from pastdue.adapters.cosmos import CosmosAccountStore, CosmosCustomerData, make_client
from pastdue.adapters.cosmos.ledger import CosmosLedger
from pastdue.adapters.gateway import SandboxGateway
from pastdue.services.deps import Deps
from tests.support.faults import FaultyTransport


def faulty_deps(rate: float, seed: int = 7, **transport_options) -> tuple[Deps, FaultyTransport]:
    transport = FaultyTransport(rate, seed, connection_verify=False, **transport_options)
    client = make_client(bootstrap.settings(), transport=transport)
    db = client.get_database_client(bootstrap.settings().cosmos_database)
    deps = Deps(
        store=CosmosAccountStore(db.get_container_client("accounts")),
        customer_data=CosmosCustomerData(db.get_container_client("customerData")),
        gateway=SandboxGateway(CosmosLedger(db.get_container_client("gatewayLedger"))),
        policy=bootstrap.deps().policy,
        clock=bootstrap.deps().clock,
    )
    return deps, transport


def with_gateway(deps: Deps, gateway) -> Deps:
    return dataclasses.replace(deps, gateway=gateway)


def ledger_entries(prefix: str) -> list[dict]:
    return list(
        bootstrap.container("gatewayLedger").query_items(
            "SELECT * FROM c WHERE STARTSWITH(c.id, @p)",
            parameters=[{"name": "@p", "value": prefix}],
            enable_cross_partition_query=True,
        )
    )


def taken(account_id: str) -> tuple[int, int]:
    """What the sandbox processor really took for this account (its ledger ids name the account): the
    payments, and the minor units in all."""
    items = [e for e in ledger_entries(f"{account_id}:") if e["outcome"] == "succeeded"]
    return len(items), sum(item["amount"]["value"] for item in items)
