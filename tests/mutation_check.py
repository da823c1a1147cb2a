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
        "sub.past_due_since + (cal.disable_day + sub.grace_days) * DAY",
        "sub.past_due_since + (cal.disable_day + 1 + sub.grace_days) * DAY",
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
        "    if any(n.notice_id == notice_id for n in account.outbox):\n        return False\n",
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
        "pastdue/domain/admin_events.py",
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
        "pastdue/domain/failures.py",
        "failed_at = min(event.occurred_at, now)",
        "failed_at = now",
        (UNIT,),
    ),
    Mutant(
        "calendar from the webhook's arrival (handler)",
        "functions/charge_failed/__init__.py",
        "occurred_at=created_at(body),",
        "occurred_at=(created_at(body), __import__('datetime').datetime.now(__import__('datetime').UTC))[1],",
        ("tests/e2e/test_billing_api.py",),
    ),
    Mutant(
        "paid-off disabled subscription purged anyway",
        "pastdue/domain/sweep.py",
        "        if account.balance(sub.subscription_id).is_zero:\n            sub.deletion_scheduled_at = None",
        "        if False:\n            sub.deletion_scheduled_at = None",
        (UNIT,),
    ),
    Mutant(
        "repeated soft report makes a hard decline retryable",
        "pastdue/domain/failures.py",
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
        "pastdue/domain/failures.py",
        "    apply_credit(account, charge, now)\n    if charge.status != OPEN:",
        "    if charge.status != OPEN:",
        (UNIT,),
    ),
    Mutant(
        "pay-now receipt shows what is left instead of what was taken",
        "pastdue/domain/payments.py",
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
        "                reference=reference,\n                resume=resume,\n",
        "                reference=None,\n                resume=False,\n",
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
