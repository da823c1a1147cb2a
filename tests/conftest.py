"""Session fixtures: the real stand-ins (local Cosmos, maildev), the app in-process, and the local host."""

from __future__ import annotations

import os
from datetime import UTC
from pathlib import Path

import pytest

RUN_ROOT = Path(__file__).resolve().parent.parent / ".run" / "tests"
# Each pytest-xdist worker runs its own stand-ins and hosts, and writes their logs in a folder of its own.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")
RUN_DIR = RUN_ROOT / WORKER if WORKER else RUN_ROOT


@pytest.fixture(autouse=True)
def stripe_contract():
    """A test fails when a Stripe stand-in checking its answers (`contract=True`) answered, during the test,
    something Stripe's published schemas do not allow."""
    from devhost.stripe_contract import violations_during

    with violations_during() as found:
        yield
    if found:
        report = "\n".join(contract.report_of(new) for contract, new in found)
        pytest.fail(f"the Stripe stand-in answered outside Stripe's schemas:\n{report}", pytrace=False)


@pytest.fixture(scope="session")
def standins():
    from tests.support.stack import start_standins

    running = start_standins(RUN_DIR)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def app_env(standins):
    """The environment of the app, also set in this process for in-process integration tests."""
    import urllib3

    from pastdue import bootstrap
    from pastdue.adapters.cosmos import ensure_containers
    from tests.support.stack import test_environment

    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    env = test_environment(standins)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    bootstrap.reset()
    ensure_containers(bootstrap.cosmos_client(), env["COSMOS_DATABASE"])
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    bootstrap.reset()


@pytest.fixture(scope="session")
def host(app_env):
    """Base URL of the local host serving function_app over real HTTP."""
    from tests.support.stack import start_host

    process, base = start_host(app_env, RUN_DIR / "host.log")
    yield base
    process.terminate()
    process.wait(10)


@pytest.fixture()
def app_database(app_env):
    """The in-process app on a database of its own for one test. The local Cosmos stand-in has no indexes:
    every cross-partition query (the sweep's, the drain's, the book's counts) scans every item of the
    container, so a test that seeds a thousand accounts, or sweeps day by day for months, runs on its own
    instead of scanning (and sweeping) every other test's accounts on this worker, and frees what it wrote."""
    from pastdue import bootstrap
    from tests.support.stack import new_database

    name, shared = new_database("t"), os.environ["COSMOS_DATABASE"]
    os.environ["COSMOS_DATABASE"] = name
    bootstrap.reset()
    yield name
    try:
        bootstrap.cosmos_client().delete_database(name)
    finally:
        os.environ["COSMOS_DATABASE"] = shared
        bootstrap.reset()


@pytest.fixture()
def clock(app_env):
    """In-process business clock for integration tests."""
    from pastdue import bootstrap
    from pastdue.adapters.clock import AdjustableClock, SystemClock

    adjustable = AdjustableClock()
    bootstrap.use_clock(adjustable)
    yield adjustable
    bootstrap.use_clock(SystemClock())


@pytest.fixture()
def tools(host, standins):
    """Host tools with the host's test clock at real time for each test, and put back to it after: the host is
    shared by this worker's tests, and one that moved its clock months ahead (a lifecycle) must not leave a
    later test that never asked for the clock (the portal's) dunning in that future."""
    from datetime import datetime

    from tests.support.host_tools import HostTools

    helper = HostTools(host, standins.maildev_web_port)
    helper.set_clock(datetime.now(UTC).isoformat())
    yield helper
    helper.set_clock(datetime.now(UTC).isoformat())


@pytest.fixture()
def billing(host):
    from tests.support.clients import Billing

    return Billing(host)


@pytest.fixture()
def portal(host):
    from tests.support.clients import Portal

    return Portal(host)


@pytest.fixture()
def new_id():
    import uuid

    return lambda prefix="acct": f"{prefix}-{uuid.uuid4().hex[:12]}"


# The local hosts' logs, read from where each stood when the run began: the run leaves no traceback in them
# (every failure the app meets is answered as a problem, or logged as one line). Checked when the run ends.
_HOST_LOGS_AT_START: dict[Path, int] = {}


def pytest_sessionstart(session):
    if WORKER:
        return  # the controller reads every worker's logs
    for log in RUN_ROOT.glob("**/host*.log"):
        _HOST_LOGS_AT_START[log] = log.stat().st_size


def pytest_sessionfinish(session, exitstatus):
    if WORKER:
        return
    from tests.support.host_log import traceback_in

    found = []
    for log in sorted(RUN_ROOT.glob("**/host*.log")):
        text = log.read_bytes()[_HOST_LOGS_AT_START.get(log, 0) :].decode("utf-8", "replace")
        shown = traceback_in(text)
        if shown is not None:
            found.append(f"{log.relative_to(RUN_ROOT)}:\n{shown}")
    if found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("\nA host log of this run holds a traceback:\n" + "\n\n".join(found), red=True)
        if session.exitstatus == 0:
            session.exitstatus = 1
