"""The dunning policy: validated data with per-plan overrides, never code."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from pastdue.domain.codec import camel

# Declines a retry of the same card cannot cure: Stripe's decline codes whose documented next step is
# a new card or the cardholder calling the bank (plus card-network equivalents). Stripe's advice_code
# do_not_try_again makes any decline hard as well (adapters/stripe_outcomes.py).
DEFAULT_HARD_DECLINES = (
    "expired_card",
    "lost_card",
    "stolen_card",
    "pickup_card",
    "restricted_card",
    "account_closed",
    "invalid_account",
    "incorrect_number",
    "invalid_number",
    "do_not_honor_permanent",
    "fraudulent",
    "revocation_of_authorization",
    "revocation_of_all_authorizations",
    "stop_payment_order",
    "card_not_supported",
    "currency_not_supported",
    "merchant_blacklist",
    "security_violation",
    "service_not_allowed",
    "transaction_not_allowed",
    "new_account_information_available",
    "invalid_expiry_month",
    "invalid_expiry_year",
    "payment_method_unusable",
    "resource_missing",
    "dispute_lost",  # the cardholder disputed a payment of this card and won: not charged again
)


class PolicyError(ValueError):
    """The policy document is invalid; the message names the field."""


@dataclass(frozen=True)
class Calendar:
    """One plan's dunning calendar. Its values come from the policy file (pastdue/policy/default.yaml, or
    the operator's over it): no default here, so that tests, the gallery and production read one calendar."""

    retry_days: tuple[int, ...]
    reminder_days: tuple[int, ...]
    final_notice_day: int
    disable_day: int
    delete_after_days: int
    deletion_warning_days: tuple[int, ...]
    # What support may grant (pastdue/domain/support.py): extra days before disabling, in all, for one
    # past-due episode; and the longest pause of dunning.
    max_grace_extension_days: int
    max_pause_days: int
    # Reason-aware retries (pastdue/domain/retries.py). retry_days above serve declines of no known
    # category; "try again later" errors have their own days; insufficient funds are retried on the
    # account's pay days (days of the month, at pay_day_hour in the account's time zone) within the grace
    # period. Authentication and do-not-retry declines are never retried automatically. No charge, and no
    # card across charges, is tried more than max_attempts_30_days times in any 30 days (networks allow ~15).
    retry_days_try_later: tuple[int, ...]
    pay_days: tuple[int, ...]
    pay_day_hour: int
    max_attempts_30_days: int
    # Card-expiry pre-dunning: notices this many days before the end of the card's expiry month.
    expiry_notice_days: tuple[int, ...]

    def __hash__(self) -> int:
        # Calendars key the schedule's caches, asked many times a decision: hashed once, not field by field.
        try:
            return self.__dict__["_hash"]
        except KeyError:
            value = hash(tuple(getattr(self, f.name) for f in fields(self)))
            object.__setattr__(self, "_hash", value)
            return value

    def validate(self, where: str) -> Calendar:
        for name in (
            "retry_days",
            "reminder_days",
            "deletion_warning_days",
            "retry_days_try_later",
            "expiry_notice_days",
        ):
            days = getattr(self, name)
            if any(not _is_day(d) for d in days) or len(set(days)) != len(days):
                raise PolicyError(f"{where}.{camel(name)} must be distinct positive whole days")
        for name in (
            "final_notice_day",
            "disable_day",
            "delete_after_days",
            "max_grace_extension_days",
            "max_pause_days",
        ):
            if not _is_day(getattr(self, name)):
                raise PolicyError(f"{where}.{camel(name)} must be a positive whole number of days")
        if self.final_notice_day >= self.disable_day:
            raise PolicyError(f"{where}.finalNoticeDay must come before disableDay")
        if any(d >= self.disable_day for d in self.retry_days + self.reminder_days + self.retry_days_try_later):
            raise PolicyError(f"{where}: retries and reminders must come before disableDay")
        if (
            not self.pay_days
            or any(not _is_day(d) or d > 28 for d in self.pay_days)
            or len(set(self.pay_days)) != len(self.pay_days)
        ):
            raise PolicyError(f"{where}.payDays must be distinct days of the month from 1 to 28")
        if (
            not isinstance(self.pay_day_hour, int)
            or isinstance(self.pay_day_hour, bool)
            or not 0 <= self.pay_day_hour <= 23
        ):
            raise PolicyError(f"{where}.payDayHour must be an hour from 0 to 23")
        if not _is_day(self.max_attempts_30_days) or self.max_attempts_30_days > 15:
            raise PolicyError(f"{where}.maxAttempts30Days must be from 1 to 15 (the card networks' limit)")
        if (
            len(self.retry_days) > self.max_attempts_30_days
            or len(self.retry_days_try_later) > self.max_attempts_30_days
        ):
            raise PolicyError(f"{where}: more retry days than maxAttempts30Days allows")
        if any(d >= self.delete_after_days for d in self.deletion_warning_days):
            raise PolicyError(f"{where}.deletionWarningDays must be fewer than deleteAfterDays")
        return self


@dataclass(frozen=True)
class Policy:
    """The dunning policy: a calendar per plan and what money given back means. Built from the policy file
    (pastdue.policy.shipped(), or the operator's file over it), never with defaults of its own."""

    default: Calendar
    # Money given back after it was collected: a refund made at the processor, a dispute the customer won.
    # True re-opens the amount as owed (a new charge, dunned like a failure); False only records it. A refund
    # is made on purpose (the Dashboard, a goodwill gesture): recorded only unless the policy says otherwise.
    reopen_refunds: bool
    reopen_lost_disputes: bool
    # The sweep's retries of one day on one card go as one payment (fewer debits on the statement, one try
    # against the networks' caps); False: one payment per charge.
    combine_retries: bool
    plans: tuple[tuple[str, Calendar], ...] = ()
    hard_decline_codes: frozenset[str] = frozenset(DEFAULT_HARD_DECLINES)

    def for_plan(self, plan: str) -> Calendar:
        for name, calendar in self.plans:  # a handful of plans at most: no dict built per call
            if name == plan:
                return calendar
        return self.default

    def is_hard(self, decline_code: str | None) -> bool:
        return decline_code in self.hard_decline_codes

    @classmethod
    def from_document(cls, doc: object, base: Policy | None = None) -> Policy:
        """The policy a document describes, read over `base` (what it leaves out is base's); without a base,
        its `default` calendar names every field."""
        if not isinstance(doc, dict):
            raise PolicyError("policy must be a mapping")
        unknown = set(doc) - {
            "default",
            "plans",
            "hardDeclineCodes",
            "reopenRefunds",
            "reopenLostDisputes",
            "combineRetries",
        }
        if unknown:
            raise PolicyError(f"unknown policy field(s): {', '.join(sorted(unknown))}")
        default = (
            _calendar(base.default, doc.get("default", {}), "default")
            if base is not None
            else _complete_calendar(doc.get("default"), "default")
        )
        plans = doc.get("plans", {})
        if not isinstance(plans, dict):
            raise PolicyError("plans must be a mapping of plan name to overrides")
        overrides = tuple((name, _calendar(default, o, f"plans.{name}")) for name, o in plans.items())
        if "plans" not in doc and base is not None:
            overrides = base.plans
        codes = doc.get("hardDeclineCodes", sorted(base.hard_decline_codes) if base else list(DEFAULT_HARD_DECLINES))
        if not isinstance(codes, list) or not all(isinstance(c, str) and c for c in codes):
            raise PolicyError("hardDeclineCodes must be a list of decline codes")
        switches = {}
        for key, field in (
            ("reopenRefunds", "reopen_refunds"),
            ("reopenLostDisputes", "reopen_lost_disputes"),
            ("combineRetries", "combine_retries"),
        ):
            if key not in doc and base is None:
                raise PolicyError(f"{key} must be set (true or false)")
            value = doc.get(key, getattr(base, field, None))
            if not isinstance(value, bool):
                raise PolicyError(f"{key} must be true or false")
            switches[key] = value
        return cls(
            default,
            reopen_refunds=switches["reopenRefunds"],
            reopen_lost_disputes=switches["reopenLostDisputes"],
            combine_retries=switches["combineRetries"],
            plans=overrides,
            hard_decline_codes=frozenset(codes),
        )


def _calendar(base: Calendar, overrides: object, where: str) -> Calendar:
    if not isinstance(overrides, dict):
        raise PolicyError(f"{where} must be a mapping")
    fields = {camel(name): name for name in Calendar.__dataclass_fields__}
    unknown = set(overrides) - set(fields)
    if unknown:
        raise PolicyError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        changes[fields[key]] = tuple(sorted(value)) if isinstance(value, list) else value
    return replace(base, **changes).validate(where)


def _complete_calendar(values: object, where: str) -> Calendar:
    """A calendar every field of which the document names (the shipped policy's `default`)."""
    if not isinstance(values, dict):
        raise PolicyError(f"{where} must be a mapping")
    names = {camel(f.name): f.name for f in fields(Calendar)}
    missing = sorted(set(names) - set(values))
    if missing:
        raise PolicyError(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = set(values) - set(names)
    if unknown:
        raise PolicyError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    given: dict[str, Any] = {names[k]: tuple(sorted(v)) if isinstance(v, list) else v for k, v in values.items()}
    return Calendar(**given).validate(where)


def _is_day(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
