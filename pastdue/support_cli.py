"""python -m pastdue.support_cli: the support API from a terminal (role Billing.Support).

  list     [--state pastDue|disabled|...] [--disable-within DAYS] [--delete-within DAYS] [--email ADDRESS]
  show     ACCOUNT                      the account, its subscriptions and alerts, and its recent timeline
  resend   ACCOUNT NOTICE_ID            a notice that ended failed, sent again
  pause    ACCOUNT --days N --reason R  no dunning until then
  resume   ACCOUNT
  extend   ACCOUNT SUBSCRIPTION --days N --reason R
  write-off ACCOUNT CHARGE --reason R [--no-notice]
  health                               the deep health check: versions, and whether Cosmos DB answers

Against Azure: --api https://<app>.azurewebsites.net/api --scope api://<portal client id>/.default; the token
is the Azure CLI's (az login first), asked for with azure-identity's AzureCliCredential and nothing else (a
credential chain could pick another tool's sign-in, whose client App Service Authentication refuses), and App
Service Authentication checks it and the role. Against the local host (make run): --api
http://localhost:7071/api --local-principal <object id> sends the principal header the local host trusts
(PRINCIPAL_MODE=unverified-local only).
Environment: PASTDUE_API, PASTDUE_SCOPE, PASTDUE_LOCAL_PRINCIPAL give the same defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta


class ApiError(Exception):
    pass


class Client:
    def __init__(self, api: str, scope: str | None = None, local_principal: str | None = None):
        if urllib.parse.urlsplit(api).scheme not in ("http", "https"):
            raise ApiError("--api must be an http(s) URL")
        self.api, self.headers = api.rstrip("/"), {"Accept": "application/json"}
        if local_principal:
            from pastdue.http.principal import encode_principal

            self.headers["X-MS-CLIENT-PRINCIPAL"] = encode_principal(local_principal, ("Billing.Support",), "support")
        elif scope:
            self.headers["Authorization"] = f"Bearer {cli_token(scope)}"
        else:
            raise ApiError("give --scope (Azure) or --local-principal (the local host)")

    def call(self, method: str, path: str, body: dict | None = None, query: dict | None = None) -> dict:
        url = f"{self.api}{path}"
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = json.dumps(body).encode() if body is not None else None
        headers = {**self.headers, **({"Content-Type": "application/json"} if data is not None else {})}
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - http(s) only
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - the API the user named
                return json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            try:
                problem = json.loads(error.read())
                raise ApiError(f"{error.code} {problem.get('title', '')}: {problem.get('detail', '')}") from None
            except ValueError:
                raise ApiError(f"{error.code} {error.reason}") from None
        except urllib.error.URLError as error:
            raise ApiError(f"cannot reach {self.api}: {error.reason}") from None


def cli_token(scope: str) -> str:
    """A token for the API from the Azure CLI's sign-in: issued to the Azure CLI's client, the one
    supportClientIds lets through."""
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import AzureCliCredential

    try:
        return AzureCliCredential().get_token(scope).token
    except ClientAuthenticationError as error:
        raise ApiError(f"no Azure CLI token for {scope} (run az login first): {error}") from None


def _money(amount: dict | None) -> str:
    if not amount:
        return "-"
    from babel.numbers import get_currency_precision

    digits = get_currency_precision(amount["currency"])
    return f"{amount['value'] / 10**digits:,.{digits}f} {amount['currency']}"


def _day(value: str | None) -> str:
    return value[:10] if value else "-"


def table(rows: list[list[str]], head: list[str]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(head, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


def _within(days: float | None) -> str | None:
    return None if days is None else (datetime.now(UTC) + timedelta(days=days)).isoformat()


def run(args, client: Client, out) -> int:
    if args.command == "health":
        print(json.dumps(client.call("GET", "/health/deep"), indent=2), file=out)
        return 0
    if args.command == "list":
        query = {
            "state": args.state,
            "disableBefore": _within(args.disable_within),
            "deleteBefore": _within(args.delete_within),
            "email": args.email,
            "limit": 200,
        }
        rows, cursor = [], None
        while True:
            page = client.call("GET", "/support/accounts", query={**query, "cursor": cursor})
            rows += [
                [
                    a["accountId"],
                    a["adminEmail"],
                    ",".join(a["states"]),
                    _money(a["balance"]),
                    _day(a["nextDisableAt"]),
                    _day(a["nextDeletionAt"]),
                    _day(a["dunningPausedUntil"]),
                ]
                for a in page["accounts"]
            ]
            cursor = page["next"]
            if not cursor:
                break
        print(table(rows, ["account", "admin", "states", "balance", "disable", "delete", "paused until"]), file=out)
        print(f"{len(rows)} account(s)", file=out)
        return 0
    account = args.account
    if args.command == "show":
        view = client.call("GET", f"/accounts/{urllib.parse.quote(account)}")
        admin = view["admin"]
        print(
            f"{view['accountId']}  admin {admin['name']} <{admin['email']}>  {view['paymentMode']}  "
            f"balance {_money(view['balance'])}  credit {_money(view.get('credit'))}",
            file=out,
        )
        print(
            table(
                [
                    [
                        s["subscriptionId"],
                        s["displayName"],
                        s["state"],
                        _money(s["balance"]),
                        _day(s.get("pastDueSince")),
                        _day(s.get("deletionScheduledAt")),
                    ]
                    for s in view["subscriptions"]
                ],
                ["subscription", "name", "state", "balance", "past due since", "deletion"],
            ),
            file=out,
        )
        for alert in view["alerts"]:
            print(f"alert {alert['kind']}: {alert['message']}", file=out)
        timeline = client.call("GET", f"/accounts/{urllib.parse.quote(account)}/history", query={"limit": args.limit})
        print(
            table(
                [
                    [
                        e["at"][:19].replace("T", " "),
                        e["kind"],
                        e["actor"],
                        e.get("subscriptionId") or "",
                        json.dumps(e["detail"], ensure_ascii=False)[:70],
                    ]
                    for e in timeline["entries"]
                ],
                ["at", "what", "who", "subscription", "detail"],
            ),
            file=out,
        )
        return 0
    base = f"/support/accounts/{urllib.parse.quote(account)}"
    if args.command == "resend":
        client.call("POST", f"{base}/notices/{urllib.parse.quote(args.notice)}/resend", {})
    elif args.command == "pause":
        client.call("POST", f"{base}/dunning/pause", {"until": _within(args.days), "reason": args.reason})
    elif args.command == "resume":
        client.call("POST", f"{base}/dunning/resume", {})
    elif args.command == "extend":
        client.call(
            "POST",
            f"{base}/subscriptions/{urllib.parse.quote(args.subscription)}/extend-grace",
            {"days": args.days, "reason": args.reason},
        )
    elif args.command == "write-off":
        client.call(
            "POST",
            f"{base}/charges/{urllib.parse.quote(args.charge)}/write-off",
            {"reason": args.reason, "notifyAdmin": not args.no_notice},
        )
    print(f"{args.command}: done (see `show {account}`)", file=out)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m pastdue.support_cli", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    top.add_argument("--api", default=os.environ.get("PASTDUE_API", "http://localhost:7071/api"))
    top.add_argument("--scope", default=os.environ.get("PASTDUE_SCOPE"))
    top.add_argument("--local-principal", default=os.environ.get("PASTDUE_LOCAL_PRINCIPAL"))
    commands = top.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list")
    listing.add_argument("--state", choices=["active", "pastDue", "disabled", "deleted"])
    listing.add_argument("--disable-within", type=float, metavar="DAYS")
    listing.add_argument("--delete-within", type=float, metavar="DAYS")
    listing.add_argument("--email")
    show = commands.add_parser("show")
    show.add_argument("account")
    show.add_argument("--limit", type=int, default=30)
    resend = commands.add_parser("resend")
    resend.add_argument("account")
    resend.add_argument("notice")
    pause = commands.add_parser("pause")
    pause.add_argument("account")
    pause.add_argument("--days", type=float, required=True)
    pause.add_argument("--reason", required=True)
    commands.add_parser("resume").add_argument("account")
    extend = commands.add_parser("extend")
    extend.add_argument("account")
    extend.add_argument("subscription")
    extend.add_argument("--days", type=int, required=True)
    extend.add_argument("--reason", required=True)
    write_off = commands.add_parser("write-off")
    write_off.add_argument("account")
    write_off.add_argument("charge")
    write_off.add_argument("--reason", required=True)
    write_off.add_argument("--no-notice", action="store_true", help="do not send the admin a notice")
    commands.add_parser("health")
    return top


def main(argv: list[str] | None = None, out=None) -> int:
    args = parser().parse_args(argv)
    out = out or sys.stdout
    try:
        return run(args, Client(args.api, args.scope, args.local_principal), out)
    except ApiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # `... | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
