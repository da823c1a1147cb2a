"""python -m devhost: start the stand-ins and serve the function app on http://localhost:7071."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

import uvicorn

from devhost.standins import ROOT, PortTaken, StandIns, port_in_use

LOCAL_DEFAULTS = {
    "EMAIL_SENDER": "billing@pastdue.localhost",
    "BILLING_WEBHOOK_SECRET": "local-webhook-secret-change-me",
    "PRINCIPAL_MODE": "unverified-local",
    "SWEEP_SCHEDULE": "0 0 2 * * *",
    "CORS_ALLOWED_ORIGINS": "http://localhost:3000,http://localhost:5173",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devhost", description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("FUNCTIONS_PORT", 7071)))
    parser.add_argument("--no-standins", action="store_true", help="use stand-ins already running")
    parser.add_argument("--no-timers", action="store_true", help="run timers only through /admin/functions")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)  # the SDKs log every request at INFO
    _load_local_settings()
    if port_in_use(args.port):
        print(f"port {args.port} for the local host is already taken (set FUNCTIONS_PORT)", file=sys.stderr)
        return 2
    standins = StandIns(int(os.environ.get("COSMOS_PORT", 8081)), int(os.environ.get("SMTP_PORT", 1025)),
                        int(os.environ.get("MAILDEV_WEB_PORT", 1080)))
    if not args.no_standins:
        try:
            standins.start(ROOT / ".run")
        except PortTaken as error:
            print(error, file=sys.stderr)
            return 2
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
    standin = StripeStandIn(os.environ["STRIPE_SECRET_KEY"], port,
                            f"http://127.0.0.1:{host_port}/api/webhooks/stripe",
                            os.environ["STRIPE_WEBHOOK_SECRET"].split(",")[0]).start()
    os.environ["STRIPE_API_BASE"] = standin.url
    print(f"  Stripe:      {standin.url}  (stand-in; events to /api/webhooks/stripe)", flush=True)


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
    print(f"\n  Functions:   http://localhost:{port}/api/<route>  (health: /api/health)\n"
          f"  Cosmos:      {os.environ['COSMOS_ENDPOINT']}\n"
          f"  Mail:        http://localhost:{standins.maildev_web_port}  (SMTP {standins.smtp_port})\n"
          f"  Test clock:  http://localhost:{port}/admin/clock\n", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
    return 0


def _load_local_settings() -> None:
    """Values from local.settings.json, as func start reads them; the environment wins."""
    path = Path(ROOT / "local.settings.json")
    if path.exists():
        import json

        for key, value in json.loads(path.read_text()).get("Values", {}).items():
            os.environ.setdefault(key, str(value))


if __name__ == "__main__":
    sys.exit(main())
