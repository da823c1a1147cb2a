"""Queue triggers for the local host, as the Functions host runs them (Azure Storage queues, here Azurite):

- the message is taken invisible for a lease (QUEUE_LEASE_SECONDS locally, ten minutes by default as in
  Azure) and the lease is renewed while the function runs, so a process that dies mid-message gives it
  back when the lease runs out, and another instance takes it;
- Base64 text, the host's default messageEncoding; `batchSize` messages at a time (host.json);
- the function returns: the message is deleted; it raises: the message is visible again after host.json's
  `visibilityTimeout`, and after `maxDequeueCount` tries it is moved to `<queue>-poison`.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
import time
from datetime import timedelta

from azure.core.exceptions import AzureError
from azure.functions.queue import QueueMessage
from azure.storage.queue import QueueClient

log = logging.getLogger("devhost")
# Polling as the host does: quickly after a message, backing off while the queue stays empty (the host
# up to maxPollingInterval; here up to a second). A timer run of the local host wakes the listeners.
FAST_POLL_SECONDS, SLOW_POLL_SECONDS = 0.02, 1.0


def host_queue_settings() -> dict:
    from pastdue import bootstrap

    queues = bootstrap.host_queues()
    return {
        "batch": int(queues.get("batchSize", 16)),
        "tries": bootstrap.queue_tries(),
        "retry_after": _seconds(queues.get("visibilityTimeout", "00:00:00")),
    }


def _seconds(span: str) -> int:
    hours, minutes, seconds = (int(part) for part in span.split(":"))
    return int(timedelta(hours=hours, minutes=minutes, seconds=seconds).total_seconds())


class QueueListener:
    """Takes messages for one queue-triggered function and runs it (job.run), until stopped."""

    def __init__(self, job, queue_name: str, connection_string: str):
        self.job, self.queue_name = job, queue_name
        self.settings = host_queue_settings()
        self.lease = int(os.environ.get("QUEUE_LEASE_SECONDS") or 600)
        self.queue = QueueClient.from_connection_string(connection_string, queue_name)
        self.poison = QueueClient.from_connection_string(connection_string, f"{queue_name}-poison")
        self.busy = False
        self._stop, self._wake = threading.Event(), threading.Event()

    def start(self) -> QueueListener:
        threading.Thread(target=self._loop, name=f"queue-{self.job.name}", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """Look at the queue now (the local host just ran a timer that may have queued work)."""
        self._wake.set()

    def _idle(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def idle(self) -> bool:
        """Nothing running and nothing left on the queue (visible or taken)."""
        try:
            return not self.busy and self.queue.get_queue_properties().approximate_message_count == 0
        except AzureError:
            return False

    def _loop(self) -> None:
        interval = FAST_POLL_SECONDS
        while not self._stop.is_set():
            try:
                messages = list(
                    self.queue.receive_messages(max_messages=self.settings["batch"], visibility_timeout=self.lease)
                )
            except AzureError as error:
                log.warning("queue %s not reachable (%s): trying again", self.queue_name, type(error).__name__)
                self._idle(2)
                continue
            if not messages:
                self._idle(interval)
                interval = min(SLOW_POLL_SECONDS, interval * 2)
                continue
            interval = FAST_POLL_SECONDS
            for message in messages:
                self.busy = True
                try:
                    self._handle(message)
                except AzureError as error:  # the queue itself failed us: the message comes back on its own
                    log.warning(
                        "queue %s: message %s not settled (%s)", self.queue_name, message.id, type(error).__name__
                    )
                finally:
                    self.busy = False

    def _handle(self, message) -> None:
        lease = _Lease(self.queue, message, self.lease)
        body = base64.b64decode(message.content)
        # What the Python worker hands a queue-triggered function (its own QueueMessage, with the counts).
        argument = QueueMessage(
            id=message.id,
            body=body,
            pop_receipt=message.pop_receipt,
            dequeue_count=message.dequeue_count,
            insertion_time=message.inserted_on,
            expiration_time=message.expires_on,
            time_next_visible=message.next_visible_on,
        )
        try:
            self.job.run(argument)
        except Exception as error:
            lease.end()
            # One line, as the host logs a failed invocation; the function logged its own details.
            log.error(
                "function %s failed on message %s (try %d of %d): %s: %s",
                self.job.name,
                message.id,
                message.dequeue_count,
                self.settings["tries"],
                type(error).__name__,
                error,
            )
            if message.dequeue_count >= self.settings["tries"]:
                self.poison.send_message(message.content)
                self.queue.delete_message(message.id, lease.receipt)
                log.error("message %s moved to %s-poison", message.id, self.queue_name)
            else:
                self.queue.update_message(message.id, lease.receipt, visibility_timeout=self.settings["retry_after"])
            return
        lease.end()
        self.queue.delete_message(message.id, lease.receipt)


class _Lease:
    """Keeps a taken message invisible while its function runs (renewed at half the lease)."""

    def __init__(self, queue: QueueClient, message, seconds: int):
        self.queue, self.message_id, self.receipt, self.seconds = queue, message.id, message.pop_receipt, seconds
        self._done, self._lock = threading.Event(), threading.Lock()
        threading.Thread(target=self._renew, daemon=True).start()

    def _renew(self) -> None:
        while not self._done.wait(max(1.0, self.seconds / 2)):
            with self._lock:
                if self._done.is_set():
                    return
                try:
                    updated = self.queue.update_message(self.message_id, self.receipt, visibility_timeout=self.seconds)
                    self.receipt = updated.pop_receipt
                except AzureError:
                    log.warning("lease of message %s not renewed", self.message_id)

    def end(self) -> None:
        with self._lock:  # a renewal in flight finishes first: the receipt read after this is the last one
            self._done.set()


def wait_idle(listeners: list[QueueListener], timeout: float) -> bool:
    """Until every listener has nothing left (the work a timer run queued is done), or the timeout."""
    for listener in listeners:
        listener.wake()
    deadline = time.monotonic() + timeout
    settled = 0
    while time.monotonic() < deadline:
        settled = settled + 1 if all(listener.idle() for listener in listeners) else 0
        if settled >= 2:  # twice in a row: a message between two polls is not missed
            return True
        time.sleep(FAST_POLL_SECONDS)
    return False
