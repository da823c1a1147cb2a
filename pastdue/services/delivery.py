"""ACS e-mail delivery reports: an undeliverable admin address raises the verify-your-e-mail alert."""

from __future__ import annotations

import logging

from pastdue.domain.events import EmailBounced
from pastdue.services.change import change
from pastdue.services.deps import AccountNotFound, Deps

log = logging.getLogger("pastdue.delivery")
REPORT = "Microsoft.Communication.EmailDeliveryReportReceived"
UNDELIVERABLE = {"Bounced", "Suppressed", "Failed", "Quarantined", "FilteredSpam"}


def handle_delivery_report(deps: Deps, event_type: str, data: dict) -> str:
    """Returns what was done. Malformed or irrelevant reports are dropped (logged), never retried;
    storage errors propagate so Event Grid delivers the report again."""
    if event_type != REPORT or not isinstance(data, dict):
        log.info("ignored event %s", event_type)
        return "ignored"
    status, recipient, message_id = data.get("status"), data.get("recipient"), data.get("messageId")
    if status not in UNDELIVERABLE or not isinstance(recipient, str):
        return "delivered"
    # The report names the recipient; the accounts whose admin address it is are marked.
    accounts = deps.store.by_admin_email(recipient)
    for account in accounts:
        try:
            change(deps, account.account_id, EmailBounced(recipient, status, str(message_id)))
        except AccountNotFound:
            continue
    return "marked" if accounts else "unknown"
