"""What the hostile-input modules share: an account to attack, and each test's own requests in the host log."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import RUN_DIR
from tests.support.host_log import OwnRequests

# The requests of the hostile test running now (one at a time on a worker), sent by its Caller.
_running: list[OwnRequests] = []


def own_requests() -> OwnRequests | None:
    return _running[-1] if _running else None


@pytest.fixture()
def no_traceback_from_own_requests(host):
    """After each hostile test: the host that answered its requests logged none of them with a traceback.
    Its requests carry an id of the test's own and the log is read from where it stood when the test began,
    on this worker's host (under --dist worksteal, a module's tests run on several workers, each with a host)."""
    own = OwnRequests(RUN_DIR / "host.log")
    _running.append(own)
    try:
        yield own
    finally:
        _running.remove(own)
    # The notices the requests queued go out after the answers: their sending is in the log too.
    assert httpx.post(f"{host}/admin/settle", timeout=60).status_code == 200
    found = own.problems()
    if found:
        pytest.fail("\n".join(found), pytrace=False)


@pytest.fixture(scope="module")
def victim(host):
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
