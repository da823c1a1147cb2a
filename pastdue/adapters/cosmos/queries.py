"""Queries across accounts (support's lists, the portal's and the processor's look-ups, the dashboard's book)
and across one account's archive (its history), on Cosmos DB."""

from __future__ import annotations

import base64
import itertools
import json
from datetime import datetime, timedelta
from typing import Any

from azure.cosmos import exceptions

from pastdue.adapters.cosmos.accounts import HISTORY_ITEM
from pastdue.adapters.cosmos.connection import read_or_none, transient_as_unavailable
from pastdue.adapters.cosmos.on_container import OnContainer
from pastdue.adapters.documents import RECORD_FIELDS, load_or_mark, upgrade
from pastdue.adapters.store import AccountFilter, AccountQueries, BadCursor, HistoryPage
from pastdue.domain.codec import format_time
from pastdue.domain.model import Account

# Accounts that count on the dashboard: not the smoke script's test accounts.
REAL = "(NOT IS_DEFINED(c.synthetic) OR c.synthetic = false)"


class CosmosQueries(OnContainer, AccountQueries):
    def find(self, where: AccountFilter, limit: int, cursor: str | None = None) -> tuple[list[Account], str | None]:
        clauses: list[str] = ["c.type = 'account'"]
        parameters: list[dict[str, object]] = []
        for clause, name, value in (
            ("ARRAY_CONTAINS(c.states, @state)", "@state", where.state),
            ("c.nextDisableAt <= @disable", "@disable", where.disable_before and format_time(where.disable_before)),
            ("c.nextDeletionAt <= @delete", "@delete", where.delete_before and format_time(where.delete_before)),
            ("c.admin.email = @email", "@email", where.admin_email),
        ):
            if value is not None:
                clauses.append(clause)
                parameters.append({"name": name, "value": value})
        continuation = None
        if cursor is not None:
            try:
                continuation = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)).decode()
                json.loads(continuation)
            except (ValueError, RecursionError):
                raise BadCursor("not a cursor this API gave") from None
        query = f"SELECT * FROM c WHERE {' AND '.join(clauses)}"  # noqa: S608 - clauses are our own
        try:
            with transient_as_unavailable():
                pages = self._container.query_items(
                    query, parameters=parameters, enable_cross_partition_query=True, max_item_count=limit
                ).by_page(continuation)
                docs = list(next(pages, []))
                token = pages.continuation_token  # type: ignore[attr-defined]  # the SDK's pager has it
        except exceptions.CosmosHttpResponseError as error:
            if error.status_code == 400 and cursor is not None:
                raise BadCursor("not a cursor this API gave, or one that expired") from None
            raise
        accounts = [a for a in map(load_or_mark, docs) if isinstance(a, Account)]
        return accounts, base64.urlsafe_b64encode(token.encode()).decode().rstrip("=") if token else None

    def snapshot(self, now: datetime, within: timedelta) -> dict:
        def count(where: str, **values) -> int:
            parameters = [{"name": f"@{k}", "value": v} for k, v in values.items()]
            with transient_as_unavailable():
                found: list[Any] = list(
                    self._container.query_items(  # VALUE COUNT(1): numbers
                        f"SELECT VALUE COUNT(1) FROM c WHERE c.type = 'account' AND {REAL} AND {where}",  # noqa: S608
                        parameters=parameters,
                        enable_cross_partition_query=True,
                    )
                )
            return int(sum(found))

        horizon = format_time(now + within)
        at_risk: dict[str, int] = {}
        with transient_as_unavailable():
            # Only the small openBalance of each past-due or disabled account is read (no GROUP BY: the
            # local stand-in has none).
            for owed in self._container.query_items(
                f"SELECT VALUE c.openBalance FROM c WHERE c.type = 'account' AND {REAL} AND "  # noqa: S608
                "IS_DEFINED(c.openBalance) AND "
                "(ARRAY_CONTAINS(c.states, 'pastDue') OR ARRAY_CONTAINS(c.states, 'disabled'))",
                enable_cross_partition_query=True,
                max_item_count=1000,
            ):
                if isinstance(owed, dict) and isinstance(owed.get("value"), int):
                    at_risk[owed["currency"]] = at_risk.get(owed["currency"], 0) + owed["value"]
        return {
            "byState": {
                state: count("ARRAY_CONTAINS(c.states, @s)", s=state)
                for state in ("active", "pastDue", "disabled", "deleted")
            },
            "atRisk": at_risk,
            "disablesSoon": count("c.nextDisableAt <= @t", t=horizon),
            "deletionsSoon": count("c.nextDeletionAt <= @t", t=horizon),
            "stillDue": count("c.nextActionAt <= @t", t=format_time(now)),
        }

    def history(
        self, account_id: str, subscription_id: str | None = None, before: int | None = None, limit: int = 100
    ) -> HistoryPage | None:
        with transient_as_unavailable():
            doc = read_or_none(self._container, account_id, account_id)
        if doc is None or doc.get("type", "account") != "account":
            return None
        doc = upgrade(doc)
        stored_seq = doc.get("archivedSeq")
        archived: int = stored_seq if isinstance(stored_seq, int) and not isinstance(stored_seq, bool) else 0

        def wanted(record, archived_ones: bool) -> bool:
            seq = record.get("seq") if isinstance(record, dict) else None
            return (
                type(seq) is int
                and (seq <= archived if archived_ones else seq > archived)
                and (before is None or seq < before)
                and (subscription_id is None or record.get("subscriptionId") == subscription_id)
            )

        # The newest, still in the document; then the archived chunks, only up to the archivedSeq read with
        # this document: a record being archived right now is seen once (here or there), never twice or lost.
        entries = sorted((r for r in doc.get("history") or [] if wanted(r, False)), key=lambda r: -r["seq"])
        if len(entries) <= limit:
            clauses = ["c.accountId = @a", "c.type = @t", "c.seq <= @archived"]
            parameters: list[dict[str, object]] = [
                {"name": "@a", "value": account_id},
                {"name": "@t", "value": HISTORY_ITEM},
                {"name": "@archived", "value": archived},
            ]
            if before is not None:
                clauses.append("c.seq < @before")
                parameters.append({"name": "@before", "value": before})
            if subscription_id is not None:
                clauses.append("ARRAY_CONTAINS(c.subscriptionIds, @s)")
                parameters.append({"name": "@s", "value": subscription_id})
            query = f"SELECT c.records FROM c WHERE {' AND '.join(clauses)} ORDER BY c.seq DESC"  # noqa: S608
            with transient_as_unavailable():
                pages = self._container.query_items(
                    query, parameters=parameters, partition_key=account_id, max_item_count=50
                ).by_page()
                for page in pages:
                    for chunk in page:
                        entries += sorted((r for r in chunk["records"] if wanted(r, True)), key=lambda r: -r["seq"])
                    if len(entries) > limit:
                        break
        more = len(entries) > limit
        entries = [{k: r.get(k) for k in RECORD_FIELDS} for r in entries[:limit]]
        return HistoryPage(entries, entries[-1]["seq"] if more else None)

    def by_admin_email(self, email: str) -> list[Account]:
        return self._accounts_where("c.admin.email", email)

    def by_admin_principal(self, object_id: str, limit: int = 100) -> list[Account]:
        return self._accounts_where("c.admin.principalId", object_id, limit)

    def by_gateway_customer(self, customer_id: str) -> list[Account]:
        return self._accounts_where("c.gatewayCustomerId", customer_id)

    def _accounts_where(self, field: str, value: str, limit: int | None = None) -> list[Account]:
        """Accounts whose `field` (one of our own paths, never input) equals `value`; documents that no
        longer load are left out."""
        with transient_as_unavailable():
            items = self._container.query_items(
                f"SELECT * FROM c WHERE {field} = @v",  # noqa: S608 - `field` is one of our own paths
                parameters=[{"name": "@v", "value": value}],
                enable_cross_partition_query=True,
                max_item_count=limit,
            )
            docs = list(itertools.islice(items, limit))
        loaded = [load_or_mark(doc) for doc in docs]
        return [account for account in loaded if isinstance(account, Account)]
