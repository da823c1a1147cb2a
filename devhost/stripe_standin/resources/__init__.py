"""The Stripe objects the stand-in serves, one mixin of `StripeStandIn` per kind: customers and their payment
methods, setup intents, payment intents, Stripe Billing's subscriptions and invoices, refunds and disputes.
Each keeps its objects in the shared `State` and answers its routes (devhost/stripe_standin/server.py's
ROUTES)."""

from devhost.stripe_standin.resources.customers import Customers
from devhost.stripe_standin.resources.invoices import Invoices
from devhost.stripe_standin.resources.payment_intents import PaymentIntents
from devhost.stripe_standin.resources.refunds_disputes import RefundsDisputes
from devhost.stripe_standin.resources.setup_intents import SetupIntents

__all__ = ["Customers", "Invoices", "PaymentIntents", "RefundsDisputes", "SetupIntents"]
