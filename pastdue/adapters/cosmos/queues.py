"""The work queues on Cosmos DB: accounts whose sweep or notices are due (cross-partition queries on the
due times, served by the indexes in infra/modules/cosmos.bicep), and failures counted on a document."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from azure.core import MatchConditions
from azure.cosmos import exceptions

from pastdue.adapters.cosmos.connection import read_or_none, transient_as_unavailable
from pastdue.adapters.cosmos.on_container import OnContainer
from pastdue.adapters.documents import count_failure, load_or_mark
from pastdue.adapters.store import Unreadable, WorkQueues
from pastdue.domain.codec import format_time
from pastdue.domain.model import Account


class CosmosWorkQueues(OnContainer, WorkQueues):
    def due(
        self, now: datetime, page_size: int, slots: tuple[int, ...] | None = None
    ) -> Iterator[list[Account | Unreadable]]:
        if slots is None:
            return self._pages("SELECT * FROM c WHERE c.nextActionAt <= @now", now, page_size)
        # Equality on the slot and a range on the time: the composite index (sweepSlot, nextActionAt)
        # serves it (infra/modules/cosmos.bicep). A document written before slots existed has none: it is
        # slot 0's until its next write gives it its own.
        names = {f"@s{n}": slot for n, slot in enumerate(slots)}
        where = f"c.sweepSlot IN ({', '.join(names)})"
        if 0 in slots:
            where = f"({where} OR NOT IS_DEFINED(c.sweepSlot))"
        return self._pages(
            f"SELECT * FROM c WHERE c.nextActionAt <= @now AND {where}",  # noqa: S608 - our names
            now,
            page_size,
            [{"name": k, "value": v} for k, v in names.items()],
        )

    def notices_due(self, now: datetime, page_size: int) -> Iterator[list[Account | Unreadable]]:
        return self._pages("SELECT * FROM c WHERE c.noticesDueAt <= @now", now, page_size)

    def _pages(
        self, query: str, now: datetime, page_size: int, parameters: list[dict] | None = None
    ) -> Iterator[list[Account | Unreadable]]:
        with transient_as_unavailable():  # the query plan is asked for here
            pages = self._container.query_items(
                query,
                parameters=[{"name": "@now", "value": format_time(now)}, *(parameters or [])],
                enable_cross_partition_query=True,
                max_item_count=page_size,
            ).by_page()
        while True:
            with transient_as_unavailable():
                page = next(pages, None)
                if page is None:
                    return
                docs = list(page)
            # One document that no longer loads is handed on as Unreadable, never stops the page.
            yield [load_or_mark(doc) for doc in docs]

    def record_failure(
        self, account_id: str, where: str, reason: str, now: datetime, permanent: bool = False
    ) -> dict | None:
        for _ in range(8):
            with transient_as_unavailable():
                doc = read_or_none(self._container, account_id, account_id)
            if doc is None:
                return None
            counted = count_failure(doc, where, reason, now, permanent)
            try:
                with transient_as_unavailable():
                    self._container.replace_item(
                        account_id, doc, etag=doc.get("_etag"), match_condition=MatchConditions.IfNotModified
                    )
                return counted
            except exceptions.CosmosAccessConditionFailedError:
                continue  # written meanwhile: count again on what is there now
        return None
