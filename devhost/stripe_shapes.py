"""Stripe's objects as Stripe answers them: the fields the stand-in does not model, with the values a test-mode
account holds for them (null where nothing was set, Stripe's defaults otherwise).

The stand-in keeps each object with the fields it uses; `complete` gives the answer its full shape (and
drops the stand-in's own `_` fields) on the way out, for API answers and webhook events alike, so a field
added to the stand-in's objects is never lost and Stripe's defaults live in one place.
"""

from __future__ import annotations

import calendar
import copy
from datetime import UTC, datetime

ADDRESS = {"city": None, "country": None, "line1": None, "line2": None, "postal_code": None, "state": None}
BILLING = {"address": ADDRESS, "email": None, "name": None, "phone": None, "tax_id": None}


def _payment_intent(pi: dict) -> dict:
    return {
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "capture_method": "automatic",
        "confirmation_method": "automatic",
        "customer_account": None,
        "description": None,
        "excluded_payment_method_types": None,
        "latest_charge": None,
        "managed_payments": None,
        "on_behalf_of": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "transfer_data": None,
        "transfer_group": None,
    }


def _setup_intent(seti: dict) -> dict:
    return {
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": None,
        "description": None,
        "excluded_payment_method_types": None,
        "flow_directions": None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": False,
        "mandate": None,
        "next_action": None,
        "on_behalf_of": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {"mandate_options": None, "network": None, "request_three_d_secure": "automatic"}
        },
        "payment_method_types": ["card"],
        "single_use_mandate": None,
    }


def _payment_method(pm: dict) -> dict:
    return {"allow_redisplay": "unspecified", "billing_details": BILLING, "customer_account": None}


def _card(card: dict) -> dict:
    """A payment method's card (`payment_method.card`)."""
    return {
        "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
        "display_brand": card.get("brand"),
        "fingerprint": f"fp{card.get('brand', '')}{card.get('last4', '')}",
        "generated_from": None,
        "networks": {"available": [card.get("brand")], "preferred": None},
        "regulated_status": "unregulated",
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }


def _customer(customer: dict) -> dict:
    return {
        "address": None,
        "balance": 0,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "invoice_prefix": customer["id"][-8:].upper(),
        "livemode": False,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def _invoice_settings(settings: dict) -> dict:
    return {"custom_fields": None, "footer": None, "rendering_options": None}


def _charge(charge: dict) -> dict:
    succeeded = charge.get("status") == "succeeded"
    return {
        "amount_captured": charge["amount"] if succeeded else 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": BILLING,
        "calculated_statement_descriptor": None,
        "captured": succeeded,
        "customer": None,
        "description": None,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network" if succeeded else "declined_by_network",
            "reason": None,
            "risk_level": "normal",
            "seller_message": "Payment complete." if succeeded else "The bank did not return any further details.",
            "type": "authorized" if succeeded else "issuer_declined",
        },
        "paid": succeeded,
        "payment_method": None,
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": None,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "transfer_data": None,
        "transfer_group": None,
    }


def _refund(refund: dict) -> dict:
    return {
        "balance_transaction": None,
        "customer": None,
        "customer_account": None,
        "destination_details": None,
        "metadata": {},
        "payment_method": None,
        "reason": None,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }


def _dispute(dispute: dict) -> dict:
    return {
        "balance_transactions": [],
        "enhanced_eligibility_types": [],
        "evidence": {"enhanced_evidence": {}},
        "evidence_details": {
            "due_by": None,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
    }


def month_after(timestamp: int) -> int:
    """The same moment a calendar month later (the end of a monthly period), the day clamped to the month's
    last."""
    start = datetime.fromtimestamp(timestamp, UTC)
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def _invoice(invoice: dict) -> dict:
    created = invoice.get("created", 0)
    # Pre-payment credit notes lower what is due, not what the invoice totals.
    total = invoice.get("amount_due", 0) + invoice.get("pre_payment_credit_notes_amount", 0)
    return {
        "account_country": "US",
        "account_name": None,
        "account_tax_ids": None,
        "amount_overpaid": 0,
        "amount_shipping": 0,
        "application": None,
        "attempted": invoice.get("attempt_count", 0) > 0,
        "auto_advance": True,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": "subscription_cycle",
        "collection_method": "charge_automatically",
        "customer_account": None,
        "default_payment_method": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "issuer": {"type": "self"},
        "livemode": False,
        "payment_settings": {"default_mandate": None, "payment_method_options": None, "payment_method_types": None},
        "period_end": created,
        "period_start": created,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "rendering": None,
        "starting_balance": 0,
        "status_transitions": {
            "finalized_at": created,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": total,
        "total": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
    }


def _line_item(line: dict) -> dict:
    """An invoice's line (`invoice.lines`): the stand-in keeps its amount, period, parent and pricing."""
    return {
        "description": None,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "livemode": False,
        "metadata": {},
        "pretax_credit_amounts": [],
        "quantity": 1,
        "quantity_decimal": "1",
        "subtotal": line.get("amount", 0),
        "taxes": [],
    }


def _subscription(sub: dict) -> dict:
    created = sub.get("created", 0)
    return {
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": created,
        "billing_cycle_anchor_config": None,
        # Flexible billing mode: the default for subscriptions made through the API since 2025-09-30.clover.
        "billing_mode": {"flexible": None, "type": "flexible", "updated_at": created},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "customer_account": None,
        "days_until_due": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "latest_invoice": None,
        "livemode": False,
        "managed_payments": None,
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": created,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }


def _subscription_item(item: dict) -> dict:
    """A subscription's item: its period is the price's (monthly) from when it was made; `plan` is the price
    in its older form, as Stripe still answers it."""
    created = item.get("created", 0)
    price = item.get("price") or {}
    recurring = price.get("recurring") or {}
    return {
        "billing_thresholds": None,
        "current_period_end": month_after(created),
        "current_period_start": created,
        "discounts": [],
        "metadata": {},
        "plan": {
            "id": price.get("id"),
            "object": "plan",
            "active": price.get("active", True),
            "amount": price.get("unit_amount"),
            "amount_decimal": str(price.get("unit_amount")),
            "billing_scheme": "per_unit",
            "created": price.get("created", created),
            "currency": price.get("currency"),
            "interval": recurring.get("interval", "month"),
            "interval_count": recurring.get("interval_count", 1),
            "livemode": False,
            "metadata": {},
            "meter": None,
            "nickname": None,
            "product": price.get("product"),
            "tiers_mode": None,
            "transform_usage": None,
            "trial_period_days": None,
            "usage_type": recurring.get("usage_type", "licensed"),
        },
        "quantity": 1,
        "tax_rates": [],
    }


def _price(price: dict) -> dict:
    return {
        "billing_scheme": "per_unit",
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "unit_amount_decimal": str(price.get("unit_amount")),
    }


def _credit_note(note: dict) -> dict:
    """A credit note for an amount (no invoice lines named): one custom line of that amount, as Stripe makes
    it; a pre-payment note lowers what the invoice asks, a post-payment one credits what was paid."""
    amount, suffix = note.get("amount", 0), note["id"].removeprefix("cn_")
    pre = note.get("type", "pre_payment") == "pre_payment"
    line = {
        "id": f"cnli_{suffix}",
        "object": "credit_note_line_item",
        "amount": amount,
        "description": None,
        "discount_amount": 0,
        "discount_amounts": [],
        "livemode": False,
        "metadata": {},
        "pretax_credit_amounts": [],
        "quantity": 1,
        "tax_rates": [],
        "taxes": [],
        "type": "custom_line_item",
        "unit_amount": amount,
        "unit_amount_decimal": str(amount),
    }
    return {
        "amount_shipping": 0,
        "customer_account": None,
        "customer_balance_transaction": None,
        "discount_amount": 0,
        "discount_amounts": [],
        "effective_at": note.get("created"),
        "lines": {"object": "list", "data": [line], "has_more": False, "url": f"/v1/credit_notes/{note['id']}/lines"},
        "memo": None,
        "metadata": {},
        "out_of_band_amount": None,
        "pdf": f"https://invoice.stripe.example/{note['id']}/pdf",
        "post_payment_amount": 0 if pre else amount,
        "pre_payment_amount": amount if pre else 0,
        "pretax_credit_amounts": [],
        "reason": None,
        "refunds": [],
        "shipping_cost": None,
        "subtotal": amount,
        "subtotal_excluding_tax": amount,
        "total": amount,
        "total_excluding_tax": amount,
        "total_taxes": [],
        "voided_at": None,
    }


def _event(event: dict) -> dict:
    return {"pending_webhooks": 1, "request": {"id": None, "idempotency_key": None}}


DEFAULTS = {
    "payment_intent": _payment_intent,
    "setup_intent": _setup_intent,
    "payment_method": _payment_method,
    "customer": _customer,
    "charge": _charge,
    "refund": _refund,
    "dispute": _dispute,
    "invoice": _invoice,
    "line_item": _line_item,
    "subscription": _subscription,
    "subscription_item": _subscription_item,
    "price": _price,
    "credit_note": _credit_note,
    "event": _event,
}


def complete(body):
    """A copy of an answer with every Stripe object in it (at any depth) in its full shape."""
    return _fill(copy.deepcopy(body))


def _fill(value):
    if isinstance(value, list):
        return [_fill(item) for item in value]
    if not isinstance(value, dict):
        return value
    for key in [k for k in value if k.startswith("_")]:
        del value[key]
    kind = value.get("object") if isinstance(value.get("object"), str) else None
    if kind in DEFAULTS:
        for key, default in DEFAULTS[kind](value).items():
            value.setdefault(key, copy.deepcopy(default))
    if kind == "payment_method" and isinstance(value.get("card"), dict):
        for key, default in _card(value["card"]).items():
            value["card"].setdefault(key, default)
    if kind == "customer" and isinstance(value.get("invoice_settings"), dict):
        for key, default in _invoice_settings(value["invoice_settings"]).items():
            value["invoice_settings"].setdefault(key, default)
    for key, item in value.items():
        value[key] = _fill(item)
    return value
