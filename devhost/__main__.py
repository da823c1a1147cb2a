"""python -m devhost: start the stand-ins and serve the function app on http://localhost:7071."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time

import uvicorn

from devhost.local_settings import LOCAL_DEFAULTS, file_values, port
from devhost.standins import ROOT, PortTaken, StandIns, port_in_use


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devhost", description=__doc__)
    parser.add_argument("--port", type=int, default=None, help="default: FUNCTIONS_PORT, else 7071")
    parser.add_argument("--no-standins", action="store_true", help="use stand-ins already running")
    parser.add_argument("--no-timers", action="store_true", help="run timers only through /admin/functions")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)  # the SDKs log every request at INFO
    _load_local_settings()
    args.port = args.port or port("FUNCTIONS_PORT")
    if port_in_use(args.port):
        print(f"port {args.port} for the local host is already taken (set FUNCTIONS_PORT)", file=sys.stderr)
        return 2
    standins = StandIns(port("COSMOS_PORT"), port("SMTP_PORT"), port("MAILDEV_WEB_PORT"), port("QUEUE_PORT"))
    if not args.no_standins:
        try:
            standins.start(ROOT / ".run")
        except PortTaken as error:
            print(error, file=sys.stderr)
            return 2
        # The app talks to the stand-ins just started, whatever a copied settings file pinned.
        for key, value in standins.environment().items():
            if os.environ.get(key) not in (None, value):
                print(f"note: {key}={os.environ[key]} replaced by {value} (the stand-in started now)")
            os.environ[key] = value
    for key, value in {**LOCAL_DEFAULTS, **standins.environment()}.items():
        os.environ.setdefault(key, value)
    if os.environ.get("PAYMENT_GATEWAY") == "stripe" and not os.environ.get("STRIPE_API_BASE"):
        start_stripe_standin(args.port)
    stop_on_signals()
    watch_parent()
    try:
        return serve(args.port, timers=not args.no_timers, standins=standins)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 0
    finally:
        standins.stop()


def start_stripe_standin(host_port: int) -> None:
    """PAYMENT_GATEWAY=stripe without STRIPE_API_BASE: the local Stripe stand-in, in this process (so it
    stops with it), posting its signed events to this host's /api/webhooks/stripe."""
    from devhost.stripe_standin import StripeStandIn

    os.environ.setdefault("STRIPE_SECRET_KEY", "sk_test_local_standin")
    os.environ.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_local_standin")
    os.environ.setdefault("STRIPE_PUBLISHABLE_KEY", "pk_test_local_standin")
    port = int(os.environ.get("STRIPE_PORT", 12111))
    if port_in_use(port):
        raise SystemExit(f"port {port} for the Stripe stand-in is already taken (set STRIPE_PORT)")
    from pastdue import bootstrap

    # Stripe's clock follows the host's test clock: a key sent "a day ago" on it is a day old there too.
    standin = StripeStandIn(
        os.environ["STRIPE_SECRET_KEY"],
        port,
        f"http://127.0.0.1:{host_port}/api/webhooks/stripe",
        os.environ["STRIPE_WEBHOOK_SECRET"].split(",")[0],
        clock=lambda: bootstrap.clock().now().timestamp(),
        publishable_key=os.environ["STRIPE_PUBLISHABLE_KEY"],
    ).start()
    os.environ["STRIPE_API_BASE"] = standin.url
    # The portal loads the stand-in's small Stripe.js (Stripe's own cannot be fetched offline).
    os.environ.setdefault("STRIPE_JS_URL", standin.js_url)
    print(
        f"  Stripe:      {standin.url}  (stand-in; events to /api/webhooks/stripe; Stripe.js {standin.js_url})",
        flush=True,
    )


def stop_on_signals() -> None:
    """SIGTERM and SIGINT end the host through `finally`, which stops the stand-ins. (uvicorn shuts
    down on them, then raises the signal again once its own handlers are gone: it lands here.)"""

    def leave(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGINT, leave)


def watch_parent() -> None:
    """If whatever started us (make, a test session) goes away, stop as if sent SIGTERM."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def serve(port: int, timers: bool, standins: StandIns) -> int:
    sys.path.insert(0, str(ROOT))
    from devhost.host import build_app
    from devhost.standins import create_containers
    from pastdue import bootstrap
    from pastdue.adapters.clock import AdjustableClock

    create_containers()
    clock = AdjustableClock()
    bootstrap.use_clock(clock)
    import function_app

    origins = [o.strip() for o in os.environ.get("CORS_ALLOWED_ORIGINS", "").split(",") if o.strip()]
    app = build_app(function_app.app, clock, origins, timers=timers)
    print(
        f"\n  Functions:   http://localhost:{port}/api/<route>  (health: /api/health; requests logged below)\n"
        f"  Cosmos:      {os.environ['COSMOS_ENDPOINT']}\n"
        f"  Mail:        http://localhost:{standins.maildev_web_port}  (SMTP {standins.smtp_port})\n"
        f"  Queue:       {os.environ['SWEEP_QUEUE']} (sweep shards, Azurite: {_queue_endpoint()})\n"
        f"  Test clock:  http://localhost:{port}/admin/clock\n"
        f"  Gateway:     {os.environ.get('PAYMENT_GATEWAY', 'sandbox')}   Principal: {os.environ['PRINCIPAL_MODE']}\n"
        f"  Tour:        .venv/bin/python -m devhost.tour\n",
        flush=True,
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    return 0


def _queue_endpoint() -> str:
    setting = os.environ.get("SweepQueue", "")  # noqa: SIM112 - the name the queue trigger's connection gives
    connection = dict(part.split("=", 1) for part in setting.split(";") if "=" in part)
    return connection.get("QueueEndpoint", "not configured")


def _load_local_settings() -> None:
    """Values from local.settings.json, as func start reads them; the environment wins."""
    for key, value in file_values().items():
        os.environ.setdefault(key, value)


if __name__ == "__main__":
    sys.exit(main())
