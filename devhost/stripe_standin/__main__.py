"""`python -m devhost.stripe_standin`: the Stripe stand-in on its own, serving until stopped (`make run`
starts it in the local host's process instead: devhost/__main__.py)."""

from __future__ import annotations

import argparse

from devhost.stripe_standin.server import StripeStandIn


def main() -> None:
    parser = argparse.ArgumentParser(description="A local Stripe API stand-in")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--api-key", default="sk_test_standin")
    parser.add_argument("--webhook-url")
    parser.add_argument("--webhook-secret")
    parser.add_argument("--publishable-key", default="pk_test_standin")
    args = parser.parse_args()
    standin = StripeStandIn(
        args.api_key, args.port, args.webhook_url, args.webhook_secret, publishable_key=args.publishable_key
    )
    print(f"Stripe stand-in on {standin.url}", flush=True)
    standin.server.serve_forever()


if __name__ == "__main__":
    main()
