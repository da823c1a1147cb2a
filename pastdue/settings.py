"""One validated settings object, read from the environment (app settings in Azure)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from urllib.parse import urlparse

from pastdue.domain.retention import DEFAULT_RETENTION_DAYS
from pastdue.notices.branding import DEFAULT_LINKS, Branding
from pastdue.policy import SHIPPED_FILE

DEFAULT_POLICY = str(SHIPPED_FILE)
PRINCIPAL_MODES = ("appservice", "unverified-local")


class SettingsError(ValueError):
    """A setting is missing or bad; the message names it."""


@dataclass(frozen=True)
class Settings:
    cosmos_endpoint: str
    cosmos_database: str = "pastdue"
    cosmos_key: str | None = field(default=None, repr=False)
    cosmos_verify_tls: bool = True
    email_sender: str = ""
    email_transport: str = "acs"
    acs_endpoint: str | None = None
    acs_connection_string: str | None = field(default=None, repr=False)
    smtp_host: str = "localhost"
    smtp_port: int = 1025
    webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    # Why the webhook secret cannot be used (an unresolved Key Vault reference): signed routes then
    # answer 503 and accept nothing, while the rest of the app runs.
    webhook_secret_error: str | None = field(default=None, repr=False)
    principal_mode: str = "appservice"
    support_role: str = "Billing.Support"
    sweep_time_budget_seconds: int = 480
    sweep_max_deletions: int = 100
    sweep_deletion_dry_run: bool = False
    # The fanned-out sweep (services/sweep.py): shards a run is cut into, the Storage queue their messages
    # go on, and how the app reaches it: a connection string locally (Azurite), the queue service URI and
    # the app's identity in Azure. Neither set: the timer sweeps every shard itself, one after the other.
    sweep_shards: int = 8
    sweep_queue: str = "sweep-shards"
    sweep_queue_connection: str | None = field(default=None, repr=False)
    sweep_queue_uri: str | None = None
    policy_file: str = DEFAULT_POLICY
    email_quota_per_minute: int = 30
    email_quota_per_hour: int = 100
    # How long archived history records and settled charges are kept (Cosmos TTL on each item).
    history_retention_days: int = DEFAULT_RETENTION_DAYS
    payment_gateway: str = "sandbox"
    stripe_secret_key: str | None = field(default=None, repr=False)
    stripe_webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    stripe_publishable_key: str | None = None
    stripe_api_base: str | None = None  # a local stand-in; Stripe's own API when unset
    # Where the portal loads Stripe.js from (the setup route tells it): Stripe's own, as Stripe requires, or
    # locally the Stripe stand-in's small stand-in for the part of Stripe.js the portal calls.
    stripe_js_url: str = "https://js.stripe.com/v3/"
    # Why Stripe cannot be used (an unresolved Key Vault reference, or a missing or malformed Stripe value),
    # like webhook_secret_error: Stripe's events answer 503, no payment is sent (attempts wait, reserved), the
    # rest of the app runs.
    stripe_secret_error: str | None = field(default=None, repr=False)
    branding: Branding = field(default_factory=Branding)
    # Azure Monitor: telemetry is set up only when the connection string is set (the Bicep sets it).
    insights_connection_string: str | None = field(default=None, repr=False)
    azure_client_id: str | None = None  # the app's user-assigned identity, for Application Insights
    # Share of traces the app sends (Azure Monitor's sampler). 1 by default and on purpose: the alerts count
    # requests and log lines, and a trace sampled out takes its log lines with it.
    telemetry_sampling_ratio: float = 1.0


# Each default is written once, on the dataclass; the loader reads it from here.
DEFAULT = {f.name: f.default for f in fields(Settings) if f.default is not MISSING}

# Every app setting the app reads; infra tests check the Bicep sets each required one.
REQUIRED = ("COSMOS_ENDPOINT", "EMAIL_SENDER", "BILLING_WEBHOOK_SECRET", "PRINCIPAL_MODE")
OPTIONAL = (
    "COSMOS_DATABASE",
    "COSMOS_KEY",
    "COSMOS_VERIFY_TLS",
    "EMAIL_TRANSPORT",
    "ACS_ENDPOINT",
    "ACS_CONNECTION_STRING",
    "SMTP_HOST",
    "SMTP_PORT",
    "SWEEP_SCHEDULE",
    "SWEEP_TIME_BUDGET_SECONDS",
    "DUNNING_POLICY_FILE",
    "SWEEP_MAX_DELETIONS",
    "SWEEP_DELETION_DRY_RUN",
    "SWEEP_SHARDS",
    "SWEEP_QUEUE",
    "SweepQueue",
    "SweepQueue__queueServiceUri",
    "EMAIL_QUOTA_PER_MINUTE",
    "EMAIL_QUOTA_PER_HOUR",
    "PAYMENT_GATEWAY",
    "HISTORY_RETENTION_DAYS",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "AZURE_CLIENT_ID",
    "TELEMETRY_SAMPLING_RATIO",
    "SUPPORT_ROLE",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_API_BASE",
    "STRIPE_JS_URL",
    "PORTAL_BASE_URL",
    "BRAND_NAME",
    "BRAND_LOGO_URL",
    "SUPPORT_URL",
    "SUPPORT_EMAIL",
    "EMAIL_SENDER_NAME",
    "LEGAL_FOOTER",
    "PAYEE_NAME",
    "SUPPORT_PHONE",
    *(f"PORTAL_LINK_{action.upper()}" for action in DEFAULT_LINKS),
)
GATEWAYS = ("sandbox", "stripe")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    missing = [name for name in REQUIRED if not env.get(name, "").strip()]
    if missing:
        raise SettingsError(f"missing app setting(s): {', '.join(missing)}")
    endpoint = env["COSMOS_ENDPOINT"].strip()
    parsed = urlparse(endpoint)
    if parsed.scheme != "https" or not parsed.hostname:
        raise SettingsError("COSMOS_ENDPOINT must be an https:// URL")
    verify = _bool(env, "COSMOS_VERIFY_TLS", True)
    if not verify and parsed.hostname not in ("localhost", "127.0.0.1"):
        raise SettingsError("COSMOS_VERIFY_TLS=false is allowed for a localhost endpoint only")
    transport = env.get("EMAIL_TRANSPORT", DEFAULT["email_transport"]).strip()
    if transport not in ("acs", "smtp"):
        raise SettingsError("EMAIL_TRANSPORT must be 'acs' or 'smtp'")
    if transport == "acs" and not (env.get("ACS_ENDPOINT") or env.get("ACS_CONNECTION_STRING")):
        raise SettingsError("EMAIL_TRANSPORT=acs needs ACS_ENDPOINT (or ACS_CONNECTION_STRING for local trials)")
    mode = env["PRINCIPAL_MODE"].strip()
    if mode not in PRINCIPAL_MODES:
        raise SettingsError(f"PRINCIPAL_MODE must be one of {', '.join(PRINCIPAL_MODES)}")
    secrets, secret_error = _webhook_secrets(env["BILLING_WEBHOOK_SECRET"])
    branding = _branding(env)
    if mode == "appservice":
        _public_portal(branding.portal_url)
        _named_for_customers(branding)
    gateway = (env.get("PAYMENT_GATEWAY") or DEFAULT["payment_gateway"]).strip()
    if gateway not in GATEWAYS:
        raise SettingsError(f"PAYMENT_GATEWAY must be one of {', '.join(GATEWAYS)}")
    stripe = _stripe(env) if gateway == "stripe" else {}
    policy_file = env.get("DUNNING_POLICY_FILE") or DEFAULT_POLICY
    if not Path(policy_file).is_file():
        raise SettingsError(f"DUNNING_POLICY_FILE {policy_file} does not exist")
    return Settings(
        cosmos_endpoint=endpoint,
        cosmos_database=env.get("COSMOS_DATABASE") or DEFAULT["cosmos_database"],
        cosmos_key=env.get("COSMOS_KEY") or None,
        cosmos_verify_tls=verify,
        email_sender=env["EMAIL_SENDER"].strip(),
        email_transport=transport,
        acs_endpoint=env.get("ACS_ENDPOINT") or None,
        acs_connection_string=env.get("ACS_CONNECTION_STRING") or None,
        smtp_host=env.get("SMTP_HOST") or DEFAULT["smtp_host"],
        smtp_port=_int(env, "SMTP_PORT", DEFAULT["smtp_port"]),
        webhook_secrets=secrets,
        webhook_secret_error=secret_error,
        principal_mode=mode,
        support_role=env.get("SUPPORT_ROLE") or DEFAULT["support_role"],
        sweep_time_budget_seconds=_int(env, "SWEEP_TIME_BUDGET_SECONDS", DEFAULT["sweep_time_budget_seconds"]),
        sweep_max_deletions=_int(env, "SWEEP_MAX_DELETIONS", DEFAULT["sweep_max_deletions"]),
        sweep_deletion_dry_run=_bool(env, "SWEEP_DELETION_DRY_RUN", DEFAULT["sweep_deletion_dry_run"]),
        **_sweep_queue(env),
        policy_file=policy_file,
        email_quota_per_minute=_int(env, "EMAIL_QUOTA_PER_MINUTE", DEFAULT["email_quota_per_minute"]),
        email_quota_per_hour=_int(env, "EMAIL_QUOTA_PER_HOUR", DEFAULT["email_quota_per_hour"]),
        history_retention_days=_retention(env),
        payment_gateway=gateway,
        branding=branding,
        insights_connection_string=(env.get("APPLICATIONINSIGHTS_CONNECTION_STRING") or "").strip() or None,
        azure_client_id=(env.get("AZURE_CLIENT_ID") or "").strip() or None,
        telemetry_sampling_ratio=_ratio(env, "TELEMETRY_SAMPLING_RATIO", DEFAULT["telemetry_sampling_ratio"]),
        **stripe,
    )


def _sweep_queue(env: Mapping[str, str]) -> dict:
    from pastdue.domain.shards import MAX_SHARDS

    count = _int(env, "SWEEP_SHARDS", DEFAULT["sweep_shards"])
    if count > MAX_SHARDS:
        raise SettingsError(f"SWEEP_SHARDS must be at most {MAX_SHARDS}")
    name = (env.get("SWEEP_QUEUE") or DEFAULT["sweep_queue"]).strip()
    if not re.fullmatch(r"[a-z0-9](?!.*--)[a-z0-9-]{1,54}[a-z0-9]", name):
        raise SettingsError(
            "SWEEP_QUEUE must be a Storage queue name: 3 to 56 lowercase letters, digits and "
            "single hyphens (its poison queue adds -poison)"
        )
    return {
        "sweep_shards": count,
        "sweep_queue": name,
        "sweep_queue_connection": (env.get("SweepQueue") or "").strip() or None,
        "sweep_queue_uri": _url(env, "SweepQueue__queueServiceUri"),
    }


LOCAL_PORTAL = "http://localhost:7071/portal"  # the portal `make run` serves, when PORTAL_BASE_URL is not set
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")


def _public_portal(portal_url: str) -> None:
    """In Azure (PRINCIPAL_MODE=appservice) every notice links to the portal: an address left empty or local
    would send each customer to their own machine. The app refuses to start on it."""
    parsed = urlparse(portal_url)
    if parsed.scheme != "https" or (parsed.hostname or "") in LOCAL_HOSTS or parsed.hostname is None:
        raise SettingsError(
            "PORTAL_BASE_URL must be the portal's public https:// address when PRINCIPAL_MODE=appservice "
            "(set PORTAL_ORIGIN and provision again)"
        )


def _named_for_customers(branding: Branding) -> None:
    """In Azure, what customers act on is named: the payee of a transfer is the company's legal name (banks
    check it against the account's holder), and replies go to a support address, never to DoNotReply@."""
    if not branding.payee_name:
        raise SettingsError(
            "PAYEE_NAME must be the legal name transfers are paid to when PRINCIPAL_MODE=appservice "
            "(set PAYEE_NAME and provision again)"
        )
    if not branding.support_email:
        raise SettingsError(
            "SUPPORT_EMAIL must be the address customers' replies reach when PRINCIPAL_MODE=appservice "
            "(set SUPPORT_EMAIL and provision again)"
        )


def _url(env: Mapping[str, str], name: str) -> str | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    parsed = urlparse(raw)
    local = parsed.hostname in ("localhost", "127.0.0.1")
    if not parsed.hostname or (parsed.scheme != "https" and not (local and parsed.scheme == "http")):
        raise SettingsError(f"{name} must be an https:// URL (http only for localhost)")
    return raw


def _branding(env: Mapping[str, str]) -> Branding:
    """What the notices say about who sends them and where their action leads (validated here)."""
    links = dict(DEFAULT_LINKS)
    for action in DEFAULT_LINKS:
        name = f"PORTAL_LINK_{action.upper()}"
        value = (env.get(name) or "").strip()
        if value:
            if not value.startswith("/") or any(c in value for c in " \r\n\t\"'<>"):
                raise SettingsError(f"{name} must be a path on the portal, such as /billing/{{accountId}}")
            try:
                value.format(accountId="a", subscriptionId="s")
            except (KeyError, IndexError, ValueError):
                raise SettingsError(f"{name} may use only {{accountId}} and {{subscriptionId}}") from None
            links[action] = value
    support_email = (env.get("SUPPORT_EMAIL") or "").strip() or None
    if support_email and ("@" not in support_email or any(c in support_email for c in " \r\n,;<>")):
        raise SettingsError("SUPPORT_EMAIL must be one e-mail address")
    support_phone = (env.get("SUPPORT_PHONE") or "").strip() or None
    if support_phone and not re.fullmatch(r"\+?[0-9(][0-9 ().-]{4,22}[0-9]", support_phone):
        raise SettingsError("SUPPORT_PHONE must be one phone number, such as +353 1 555 0100")
    texts = {}
    for name in ("BRAND_NAME", "EMAIL_SENDER_NAME", "LEGAL_FOOTER", "PAYEE_NAME"):
        value = (env.get(name) or "").strip()
        if any(ord(c) < 32 for c in value) or len(value) > 300:
            raise SettingsError(f"{name} must be one line of at most 300 characters")
        texts[name] = value or None
    return Branding(
        portal_url=_url(env, "PORTAL_BASE_URL") or LOCAL_PORTAL,
        brand_name=texts["BRAND_NAME"] or "pastdue",
        logo_url=_url(env, "BRAND_LOGO_URL"),
        support_url=_url(env, "SUPPORT_URL"),
        support_email=support_email,
        sender_name=texts["EMAIL_SENDER_NAME"],
        legal_footer=texts["LEGAL_FOOTER"],
        payee_name=texts["PAYEE_NAME"],
        support_phone=support_phone,
        links=links,
    )


def _stripe(env: Mapping[str, str]) -> dict:
    """Stripe's settings. Whatever is wrong with them (a value missing, unresolved or malformed) makes Stripe
    unavailable, never the app: the reason is kept (stripe_secret_error), Stripe's routes answer 503, no
    payment is sent, and everything that needs no processor goes on serving."""
    missing = [name for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET") if not env.get(name, "").strip()]
    if missing:
        return {"stripe_secret_error": malformed_stripe(f"PAYMENT_GATEWAY=stripe needs {', '.join(missing)}")}
    unresolved = [
        name
        for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")
        if KEY_VAULT_REFERENCE.lower() in env[name].lower()
    ]
    if unresolved:
        return {"stripe_secret_error": unresolved_reference(" and ".join(unresolved))}
    key = env["STRIPE_SECRET_KEY"].strip()
    if not key.startswith(("sk_", "rk_")):
        return {
            "stripe_secret_error": malformed_stripe(
                "STRIPE_SECRET_KEY must be a Stripe secret or restricted key (sk_... or rk_...)"
            )
        }
    secrets = tuple(s.strip() for s in env["STRIPE_WEBHOOK_SECRET"].split(",") if s.strip())
    if not all(s.startswith("whsec_") for s in secrets):
        return {
            "stripe_secret_error": malformed_stripe(
                "STRIPE_WEBHOOK_SECRET values must be Stripe endpoint secrets (whsec_...)"
            )
        }
    base = (env.get("STRIPE_API_BASE") or "").strip() or None
    if base:
        parsed = urlparse(base)
        if parsed.scheme != "https" and parsed.hostname not in ("localhost", "127.0.0.1"):
            return {
                "stripe_secret_error": malformed_stripe(
                    "STRIPE_API_BASE must be https (http only for a localhost stand-in)"
                )
            }
    js_url = (env.get("STRIPE_JS_URL") or "").strip() or DEFAULT["stripe_js_url"]
    parsed = urlparse(js_url)
    if not parsed.hostname or (parsed.scheme != "https" and parsed.hostname not in ("localhost", "127.0.0.1")):
        return {
            "stripe_secret_error": malformed_stripe(
                "STRIPE_JS_URL must be an https URL (http only for a localhost stand-in)"
            )
        }
    return {
        "stripe_secret_key": key,
        "stripe_js_url": js_url,
        "stripe_webhook_secrets": secrets,
        "stripe_api_base": base,
        "stripe_publishable_key": (env.get("STRIPE_PUBLISHABLE_KEY") or "").strip() or None,
    }


KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("


def unresolved_reference(names: str) -> str:
    """The one message of an unresolved secret (the alert `secret-unresolved` matches its words)."""
    return (
        f"{names}: unresolved Key Vault reference; check that the app's identity holds Key Vault "
        "Secrets User on the vault and that the secret exists"
    )


def malformed_stripe(why: str) -> str:
    """The one message of a Stripe setting the app cannot use (the alert `secret-unresolved` matches it too)."""
    return f"malformed Stripe setting: {why}; Stripe is unavailable until it is fixed (provision again)"


def _webhook_secrets(raw: str) -> tuple[tuple[str, ...], str | None]:
    """When App Service cannot resolve a Key Vault reference it hands the app the reference text
    itself, which is long enough to pass for a secret and partly public (the vault's name): it is
    refused, and so is any secret too short to resist guessing."""
    if KEY_VAULT_REFERENCE.lower() in raw.lower():
        return (), unresolved_reference("BILLING_WEBHOOK_SECRET")
    secrets = tuple(s.strip() for s in raw.split(",") if s.strip())
    if any(len(s) < 16 for s in secrets):
        raise SettingsError("BILLING_WEBHOOK_SECRET values must be at least 16 characters")
    return secrets, None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive")
    return value


MIN_RETENTION_DAYS = 400  # longer than anything the document forgets (archived charge ids, 400 days)


def _retention(env: Mapping[str, str]) -> int:
    days = _int(env, "HISTORY_RETENTION_DAYS", DEFAULT["history_retention_days"])  # 7 years
    if days < MIN_RETENTION_DAYS:
        raise SettingsError(f"HISTORY_RETENTION_DAYS must be at least {MIN_RETENTION_DAYS}")
    return days


def _ratio(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number from 0 to 1, got {raw!r}") from None
    if not 0 < value <= 1:
        raise SettingsError(f"{name} must be more than 0 and at most 1")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in ("true", "false"):
        raise SettingsError(f"{name} must be true or false")
    return raw == "true"
