"""The sweep's shard queue in memory, as an Azure Storage queue behaves (the port:
pastdue/adapters/shard_queue.py; on Azure: storage_queue.py), with the calls the Functions host makes to
take its messages (devhost/queues.py makes them on Azurite):

- a message is Base64 text of at most 64 KiB, as the adapter sends it; a bigger one is refused by the queue
  (StoreUnavailable, after what was sent before it, as the adapter reports a refusal);
- `receive` hands out visible messages and hides each for its visibility timeout, counting the try
  (`dequeue_count`) and giving a new pop receipt; a message nobody deletes is visible again once its
  timeout runs out, and is handed out again: delivery is at least once;
- `delete` and `update` need the receipt of the last `receive`: once the message was handed out again, the
  old receipt is refused (LeaseLost), even to the consumer that first took it;
- a message lives seven days (the queue's default), then it is gone whether it was taken or not.

Time is the clock's (a MemoryClock moves only when the test moves it)."""

from __future__ import annotations

import base64
import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pastdue.adapters.clock import Clock
from pastdue.adapters.shard_queue import ShardQueue
from pastdue.adapters.store import StoreUnavailable

MAX_MESSAGE_BYTES = 64 * 1024  # a message as stored (its Base64)
MAX_MESSAGES = 32  # what one receive may ask for
VISIBILITY = timedelta(seconds=30)  # receive's default visibility timeout, as the service's
MAX_VISIBILITY = timedelta(days=7)
TIME_TO_LIVE = timedelta(days=7)


@dataclass(frozen=True)
class QueuedMessage:
    """A message as `receive` hands it out: its text and the try this is."""

    id: str
    content: str
    dequeue_count: int
    pop_receipt: str


class LeaseLost(Exception):
    """The receipt is no longer the message's: it was handed out again, or it was deleted (the service's 404)."""


@dataclass
class _Stored:
    message: QueuedMessage
    visible_at: datetime
    expires_at: datetime


class MemoryShardQueue(ShardQueue):
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._messages: dict[str, _Stored] = {}  # in the order sent
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def send(self, messages: Iterable[str]) -> int:
        sent = 0
        for text in messages:
            if not isinstance(text, str):
                raise TypeError(f"a queue message is text, not {type(text).__name__}")
            if len(base64.b64encode(text.encode())) > MAX_MESSAGE_BYTES:
                raise StoreUnavailable(f"sweep queue: RequestBodyTooLarge after {sent} message(s)")
            with self._lock:
                now = self._clock.now()
                message = QueuedMessage(f"m-{next(self._ids)}", text, 0, "")
                self._messages[message.id] = _Stored(message, now, now + TIME_TO_LIVE)
            sent += 1
        return sent

    def receive(self, max_messages: int = 1, visibility_timeout: timedelta = VISIBILITY) -> list[QueuedMessage]:
        """Take up to `max_messages` visible messages, each hidden for `visibility_timeout`."""
        if not 1 <= max_messages <= MAX_MESSAGES:
            raise ValueError(f"max_messages must be 1 to {MAX_MESSAGES}")
        if not timedelta(seconds=1) <= visibility_timeout <= MAX_VISIBILITY:
            raise ValueError("a visibility timeout is 1 second to 7 days")
        with self._lock:
            now = self._expire()
            taken: list[QueuedMessage] = []
            for stored in self._messages.values():
                if len(taken) == max_messages:
                    break
                if stored.visible_at <= now:
                    stored.message = replace(
                        stored.message,
                        dequeue_count=stored.message.dequeue_count + 1,
                        pop_receipt=f"r-{next(self._ids)}",
                    )
                    stored.visible_at = now + visibility_timeout
                    taken.append(stored.message)
            return taken

    def update(self, message: QueuedMessage, visibility_timeout: timedelta) -> QueuedMessage:
        """Hide a taken message for `visibility_timeout` from now (zero: visible at once, as the host gives a
        failed message back); returns it with its new receipt."""
        if not timedelta(0) <= visibility_timeout <= MAX_VISIBILITY:
            raise ValueError("a visibility timeout is 0 to 7 days")
        with self._lock:
            now = self._expire()
            stored = self._held(message)
            stored.message = replace(stored.message, pop_receipt=f"r-{next(self._ids)}")
            stored.visible_at = now + visibility_timeout
            return stored.message

    def delete(self, message: QueuedMessage) -> None:
        with self._lock:
            self._expire()
            self._held(message)
            del self._messages[message.id]

    def peek(self, max_messages: int = MAX_MESSAGES) -> list[str]:
        """The visible messages' text, in order, without taking them."""
        if not 1 <= max_messages <= MAX_MESSAGES:
            raise ValueError(f"max_messages must be 1 to {MAX_MESSAGES}")
        with self._lock:
            now = self._expire()
            visible = [s.message.content for s in self._messages.values() if s.visible_at <= now]
            return visible[:max_messages]

    def __len__(self) -> int:
        """Every message on the queue, taken or not (the service's approximate count)."""
        with self._lock:
            self._expire()
            return len(self._messages)

    def _held(self, message: QueuedMessage) -> _Stored:
        stored = self._messages.get(message.id)
        if stored is None or not message.pop_receipt or stored.message.pop_receipt != message.pop_receipt:
            raise LeaseLost(f"message {message.id}: not held with receipt {message.pop_receipt!r}")
        return stored

    def _expire(self) -> datetime:
        now = self._clock.now()
        for message_id in [i for i, s in self._messages.items() if s.expires_at <= now]:
            del self._messages[message_id]
        return now
