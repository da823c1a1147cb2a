"""What the hostile-input modules share: an account to attack, and where the host log stood before."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import RUN_DIR


@pytest.fixture(scope="module")
def log_start():
    log = RUN_DIR / "host.log"
    return log.stat().st_size if log.exists() else 0


@pytest.fixture(scope="module")
def victim(host, log_start):
    from tests.support.clients import Billing

    billing = Billing(host)
    account_id, sub_id = f"hostile-{uuid.uuid4().hex[:8]}", "sub-hostile"  # one per module
    assert billing.account(account_id).status_code == 201
    assert billing.subscription(account_id, sub_id).status_code == 201
    assert billing.charge_failed(account_id, sub_id, "ch-hostile-1", 1000).status_code == 200
    # The failure's notices go out after the answer and mark the document sent: wait for them, so that a
    # test comparing the document before and after sees only what its own requests did.
    assert httpx.post(f"{host}/admin/settle", timeout=60).status_code == 200
    return account_id, sub_id
