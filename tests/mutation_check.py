"""python -m tests.mutation_check [--unit] [NAME ...]: apply each known billing mutant alone, run the tests that
must catch it, and report whether they did (then restore the file). Not part of `make test`: a tool to
show that the suite notices the mistakes that matter. Mutants needing the local stand-ins run their
integration tests, which start them."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    before: str
    after: str
    tests: tuple[str, ...]


UNIT = "tests/unit"
SELF_CHECK = "tests/unit/test_mutants_apply.py"
MUTANTS = [
    Mutant(
        "cancellation date one day late",
        "pastdue/domain/schedule.py",
        "sub.past_due_since + days(cal.disable_day + sub.grace_days)",
        "sub.past_due_since + days(cal.disable_day + 1 + sub.grace_days)",
        (UNIT,),
    ),
    Mutant(
        "hard decline on a retry treated as soft",
        "pastdue/domain/payments.py",
        "        hard = result.hard or policy.is_hard(result.code)\n",
        "        hard = False\n",
        (UNIT,),
    ),
    Mutant(
        "no decline code treated as hard",
        "pastdue/domain/policy.py",
        "return decline_code in self.hard_decline_codes",
        "return decline_code is None or decline_code in self.hard_decline_codes",
        (UNIT,),
    ),
    Mutant(
        "card charged the full amount after a partial transfer",
        "pastdue/domain/settlement.py",
        "        amount=charge.outstanding,\n        on_session=on_session or None,",
        "        amount=charge.amount,\n        on_session=on_session or None,",
        (UNIT,),
    ),
    Mutant(
        "processor's take not applied (the double charge)",
        "pastdue/domain/payments.py",
        "taken = result.amount or attempt.amount or charge.outstanding",
        "taken = charge.outstanding",
        (UNIT,),
    ),
    Mutant(
        "portal alerts always in English",
        "pastdue/notices/alerts.py",
        'words = catalog(language(tag))["alerts"]',
        'words = catalog("en")["alerts"]',
        (UNIT,),
    ),
    Mutant(
        "same notice id queued twice",
        "pastdue/domain/notice_queue.py",
        "    if notice_id in [n.notice_id for n in account.outbox]:\n        return False\n",
        "",
        (UNIT,),
    ),
    Mutant(
        "failed send not recorded",
        "pastdue/services/notices.py",
        '"failed", str(error), permanent=error.permanent))',
        '"throttled"))  # not recorded as a failure',
        ("tests/integration/test_bulkheads.py",),
    ),
    Mutant(
        "reactivating one reactivates every paid disabled one",
        "pastdue/domain/account_events.py",
        "only=sub.subscription_id",
        "only=None",
        (UNIT,),
    ),
    Mutant(
        "invoice payers with a card on file get retries",
        "pastdue/domain/schedule.py",
        "        account.payment_mode == CARD\n        and account.payment_method is not None\n",
        "        account.payment_method is not None\n",
        (UNIT,),
    ),
    Mutant(
        "calendar from the webhook's arrival (domain)",
        "pastdue/domain/charge_failures.py",
        "failed_at = min(event.occurred_at, now)",
        "failed_at = now",
        (UNIT,),
    ),
    Mutant(
        "calendar from the webhook's arrival (handler)",
        "functions/charge_failed/__init__.py",
        "occurred_at=parse.created_at(body.created_at),",
        "occurred_at=__import__('datetime').datetime.now(__import__('datetime').UTC),",
        ("tests/e2e/test_billing_api.py",),
    ),
    Mutant(
        "paid-off disabled subscription purged anyway",
        "pastdue/domain/sweep.py",
        "        if account.balance(sub.subscription_id).is_zero:\n            cancel_deletion(account, sub, now)",
        "        if False:\n            cancel_deletion(account, sub, now)",
        (UNIT,),
    ),
    Mutant(
        "a paid disabled subscription keeps its deletion date",
        "pastdue/domain/settlement.py",
        "        if sub.deletion_scheduled_at and not owed:",
        "        if False:",
        (UNIT,),
    ),
    Mutant(
        "a disabled subscription owed again is never deleted",
        "pastdue/domain/settlement.py",
        "        elif sub.deletion_scheduled_at is None and owed:",
        "        elif False:",
        (UNIT,),
    ),
    Mutant(
        "repeated soft report makes a hard decline retryable",
        "pastdue/domain/charge_failures.py",
        "existing.hard or hard",
        "hard",
        (UNIT,),
    ),
    Mutant(
        "== instead of compare_digest",
        "pastdue/http/signing.py",
        "hmac.compare_digest(expected, candidate)",
        "expected == candidate",
        (UNIT,),
    ),
    Mutant(
        "credit from an overpayment left unused while other charges are dunned",
        "pastdue/domain/settlement.py",
        "        if charge.pending is None:  # a charge being collected right now keeps its own attempt\n"
        "            apply_credit(account, charge, now)",
        "        pass",
        (UNIT,),
    ),
    Mutant(
        "credit on hand not applied to a new failure",
        "pastdue/domain/charge_failures.py",
        "    apply_credit(account, charge, now)\n    if charge.status != OPEN:",
        "    if charge.status != OPEN:",
        (UNIT,),
    ),
    Mutant(
        "pay-now receipt shows what is left instead of what was taken",
        "pastdue/domain/pay_now.py",
        "                    a.amount or charge.amount\n",
        "                    charge.outstanding\n",
        (UNIT,),
    ),
    Mutant(
        "a charge awaiting authentication archived after 10 days",
        "pastdue/domain/retention.py",
        "return SETTLED_KEEP_AUTHENTICATION if asked else SETTLED_KEEP",
        "return SETTLED_KEEP",
        (UNIT,),
    ),
    Mutant(
        "a success after a decline ignored (money held at Stripe, charge open)",
        "pastdue/domain/payments.py",
        "    if result.outcome == SUCCEEDED and attempt.outcome not in (None, SUCCEEDED):\n",
        "    if False:\n",
        (UNIT,),
    ),
    Mutant(
        "a lost Stripe answer resumed by creating anew (a second debit after 24 hours)",
        "pastdue/services/effects.py",
        "        reference=reference,\n        resume=resume,\n",
        "        reference=None,\n        resume=False,\n",
        ("tests/e2e/test_stripe.py",),
    ),
    Mutant(
        "Stripe's IdempotencyError read as nothing charged",
        "pastdue/adapters/stripe_gateway.py",
        '                raise OutcomeUnknown("stripe: idempotency key in use with other parameters") from None',
        '                return {"id": None, "status": "canceled"}',
        ("tests/integration/test_stripe_gateway.py",),
    ),
    Mutant(
        "amounts sent in ISO decimals to Stripe",
        "pastdue/adapters/stripe_amounts.py",
        "    shift = stripe_exponent(amount.currency) - iso_exponent(amount.currency)\n",
        "    shift = 0\n",
        ("tests/integration/test_stripe_gateway.py",),
    ),
    Mutant(
        "reminder ids by start date (lost reminder)",
        "pastdue/domain/sweep.py",
        'episode = f"e{sub.episode}"',
        "episode = (sub.past_due_since or sub.disabled_at).date().isoformat()",
        (UNIT,),
    ),
    Mutant(
        "a lost answer sent again for what is owed now (another amount under the same key)",
        "pastdue/domain/settlement.py",
        "    amount = pending.amount or charge.outstanding\n",
        "    amount = charge.outstanding\n",
        (UNIT,),
    ),
    Mutant(
        "archived settled charges and notices kept for ever (no TTL)",
        "pastdue/adapters/cosmos/accounts.py",
        '    return {**body, "id": item_id, "accountId": account_id, "type": kind, "ttl": ttl}',
        '    return {**body, "id": item_id, "accountId": account_id, "type": kind}',
        (UNIT,),
    ),
    Mutant(
        "a drain sends one notice more than its quota granted",
        "pastdue/services/notices.py",
        "if n >= granted or retry_after:",
        "if n > granted or retry_after:",
        (UNIT,),
    ),
    Mutant(
        "the card updater's pay-now keyed by the card (a second refresh is a 422)",
        "pastdue/services/stripe_events.py",
        'key, actor = f"stripe:{event_id}", "stripe:card-updater"',
        'key, actor = f"stripe:{token}", "stripe:card-updater"',
        (UNIT,),
    ),
    Mutant(
        "a partly paid charge written off for its whole amount",
        "pastdue/domain/support.py",
        "written_off = charge.outstanding",
        "written_off = charge.amount",
        (UNIT,),
    ),
    Mutant(
        "a write-off without notifyAdmin tells nobody",
        "pastdue/http/bodies.py",
        "    notify_admin: bool = True",
        "    notify_admin: bool = False",
        (UNIT,),
    ),
    Mutant(
        "Luhn doubles 5 wrong (Mastercard numbers pass the card guard)",
        "pastdue/http/strict.py",
        "n = n * 2 - 9 if n > 4 else n * 2",
        "n = n * 2 - 9 if n > 5 else n * 2",
        (UNIT,),
    ),
    Mutant(
        "C1 controls and U+2028/U+2029 let through",
        "pastdue/domain/text.py",
        r'CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")',
        r'CONTROL = re.compile(r"[\x00-\x1f\x7f]")',
        (UNIT,),
    ),
    Mutant(
        "a lone low surrogate let through",
        "pastdue/domain/text.py",
        r'SURROGATE = re.compile(r"[\ud800-\udfff]")',
        r'SURROGATE = re.compile(r"[\ud800-\udbff]")',
        (UNIT,),
    ),
    Mutant(
        "deletion warning one day short",
        "pastdue/domain/sweep.py",
        "days_left = max(1, math.ceil((deletion - now) / DAY))",
        "days_left = max(1, (deletion - now).days)",
        (UNIT,),
    ),
    Mutant(
        "a successful sweep of an account leaves its failure count (quarantined by failures months apart)",
        "pastdue/services/sweep.py",
        "        if account.failures:\n            change(deps, account.account_id, RunSucceeded())\n",
        "",
        (UNIT,),
    ),
    Mutant(
        "Stripe Billing: an invoice paid meanwhile read as an operator error",
        "pastdue/adapters/stripe_gateway.py",
        '                if error.code != "invoice_already_paid":\n'
        "                    return _invalid(error, invoice_id)\n",
        "                return _invalid(error, invoice_id)\n",
        ("tests/integration/test_stripe_invoice_paid_meanwhile.py",),
    ),
    Mutant(
        "a sweep shard on its last try taken for one more (its run never closes)",
        "functions/sweep_shard/__init__.py",
        ">= bootstrap.queue_tries()",
        "> bootstrap.queue_tries()",
        (UNIT,),
    ),
    Mutant(
        "the EPC QR code asks for the balance, not the amount written beside it",
        "pastdue/notices/render.py",
        'details.get("reference"), value)',
        'details.get("reference"), (balance if isinstance(balance, dict) else owed).get("value"))',
        (UNIT,),
    ),
    Mutant(
        "a support cursor that decodes to a string, a number or {} reaches the store",
        "pastdue/http/parse.py",
        "if not isinstance(value, dict | list) or not value:",
        "if value is None:",
        (UNIT,),
    ),
    Mutant(
        "roles under App Service's role_typ claim type ignored",
        "pastdue/http/principal.py",
        'if t in (role_typ, "roles") and',
        'if t == "roles" and',
        (UNIT,),
    ),
]


def run(mutant: Mutant) -> bool:
    """True if the tests caught the mutant."""
    path = ROOT / mutant.path
    original = path.read_text()
    if original.count(mutant.before) != 1:
        raise SystemExit(f"{mutant.name}: the code to mutate is not found once in {mutant.path}")
    path.write_text(original.replace(mutant.before, mutant.after))
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-x",
                "-q",
                "-p",
                "no:cacheprovider",
                "--hypothesis-seed=0",
                # That test checks each mutant's code is in place: it fails under every mutant, proving nothing.
                f"--ignore={SELF_CHECK}",
                *mutant.tests,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            # No bytecode of the mutated file: restored within the same second at the same size, the file would
            # otherwise be run from the mutant's .pyc by every later run.
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
    finally:
        path.write_text(original)
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED")]
    print(
        f"{'caught  ' if result.returncode else 'SURVIVED'} {mutant.name}: {failed[0][7:] if failed else ''}",
        flush=True,
    )
    return result.returncode != 0


def main(names: list[str]) -> int:
    unit_only = "--unit" in names
    names = [n for n in names if n != "--unit"]
    chosen = [
        m for m in MUTANTS if (not names or any(n in m.name for n in names)) and (not unit_only or m.tests == (UNIT,))
    ]
    survived = [m.name for m in chosen if not run(m)]
    print(f"{len(chosen) - len(survived)} of {len(chosen)} mutants caught")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
