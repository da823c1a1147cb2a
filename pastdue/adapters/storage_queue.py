"""The sweep's work queue: one message per shard on an Azure Storage queue, which the queue-triggered
`sweep_shard` function takes (Flex Consumption scales out on the queue's length).

Messages are Base64 text, what the Functions host's queue trigger reads by default. In Azure the app's
identity sends them (SweepQueue__queueServiceUri, role Storage Queue Data Contributor); locally a
connection string to Azurite (SweepQueue).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from azure.core.exceptions import AzureError, ResourceExistsError

from pastdue.adapters.shard_queue import ShardQueue
from pastdue.adapters.store import StoreUnavailable


class StorageShardQueue(ShardQueue):
    def __init__(
        self,
        queue_name: str,
        connection_string: str | None = None,
        service_uri: str | None = None,
        client_id: str | None = None,
    ):
        from azure.storage.queue import QueueClient, TextBase64EncodePolicy

        def client(name: str) -> QueueClient:
            encode = TextBase64EncodePolicy()
            if connection_string:
                return QueueClient.from_connection_string(connection_string, name, message_encode_policy=encode)
            from azure.identity import ManagedIdentityCredential

            if service_uri is None:
                raise ValueError("the shard queue needs its service URI (managed identity) or a connection string")

            return QueueClient(
                service_uri,
                name,
                credential=ManagedIdentityCredential(client_id=client_id),
                message_encode_policy=encode,
            )

        self._queue, self._poison = client(queue_name), client(f"{queue_name}-poison")

    def create(self) -> None:
        """Local runs and tests only: in Azure the Bicep creates the queue and its poison queue."""
        for queue in (self._queue, self._poison):
            with contextlib.suppress(ResourceExistsError):
                queue.create_queue()

    def send(self, messages: Iterable[str]) -> int:
        sent = 0
        try:
            for message in messages:
                self._queue.send_message(message)
                sent += 1
        except AzureError as error:
            raise StoreUnavailable(f"sweep queue: {type(error).__name__} after {sent} message(s)") from error
        return sent
