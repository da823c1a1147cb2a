"""python -m devhost.principal --oid <object id> [--role Billing.Support] [--name Ada]: prints an
X-MS-CLIENT-PRINCIPAL header value as App Service Authentication would set it, for calling the local host
by hand (PRINCIPAL_MODE=unverified-local trusts it as sent)."""

from __future__ import annotations

import argparse

from pastdue.http.principal import encode_principal


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devhost.principal", description=__doc__)
    parser.add_argument("--oid", required=True, help="the user's object id (the account's admin.principalId)")
    parser.add_argument("--role", action="append", default=[], help="an app role, e.g. Billing.Support")
    parser.add_argument("--name", default="local user")
    args = parser.parse_args(argv)
    print(encode_principal(args.oid, tuple(args.role), args.name))


if __name__ == "__main__":
    main()
