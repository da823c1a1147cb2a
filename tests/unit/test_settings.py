import pytest

from pastdue.settings import SettingsError, load_settings

GOOD = {
    "COSMOS_ENDPOINT": "https://db.documents.azure.com:443/",
    "EMAIL_SENDER": "billing@example.com",
    "BILLING_WEBHOOK_SECRET": "a-long-enough-secret",
    "PRINCIPAL_MODE": "appservice",
    "ACS_ENDPOINT": "https://acs.communication.azure.com",
    "PORTAL_BASE_URL": "https://billing.example.com",
    "PAYEE_NAME": "Example Billing SAS",
    "SUPPORT_EMAIL": "support@example.com",
}


def test_good_settings_load_with_defaults():
    settings = load_settings(GOOD)
    assert settings.cosmos_database == "pastdue" and settings.sweep_shards == 8
    assert settings.sweep_queue == "sweep-shards"
    assert settings.email_quota_per_minute == 30 and settings.email_quota_per_hour == 100
    assert "secret" not in repr(settings)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"COSMOS_ENDPOINT": ""}, "COSMOS_ENDPOINT"),
        ({"COSMOS_ENDPOINT": "http://db"}, "COSMOS_ENDPOINT must be an https"),
        ({"COSMOS_VERIFY_TLS": "false"}, "localhost endpoint only"),
        ({"PRINCIPAL_MODE": "off"}, "PRINCIPAL_MODE must be one of"),
        ({"PRINCIPAL_MODE": ""}, "PRINCIPAL_MODE"),
        ({"BILLING_WEBHOOK_SECRET": "short"}, "at least 16"),
        ({"EMAIL_TRANSPORT": "pigeon"}, "EMAIL_TRANSPORT"),
        ({"ACS_ENDPOINT": ""}, "ACS_ENDPOINT"),
        ({"SMTP_PORT": "abc"}, "SMTP_PORT must be a whole number"),
        ({"EMAIL_QUOTA_PER_MINUTE": "0"}, "EMAIL_QUOTA_PER_MINUTE must be positive"),
        ({"DUNNING_POLICY_FILE": "/nope.yaml"}, "DUNNING_POLICY_FILE"),
    ],
)
def test_a_missing_or_bad_setting_is_named(change, message):
    with pytest.raises(SettingsError, match=message):
        load_settings({**GOOD, **change})


UNRESOLVED = "@Microsoft.KeyVault(SecretUri=https://kv-pastdue-abc123.vault.azure.net/secrets/billing-webhook-secret/)"


@pytest.mark.parametrize("value", [UNRESOLVED, f"a-long-enough-secret,{UNRESOLVED}", UNRESOLVED.lower()])
def test_an_unresolved_key_vault_reference_is_never_a_secret(value):
    settings = load_settings({**GOOD, "BILLING_WEBHOOK_SECRET": value})
    assert settings.webhook_secrets == ()
    assert settings.webhook_secret_error is not None
    assert "unresolved Key Vault reference" in settings.webhook_secret_error


def test_signed_routes_answer_503_while_the_secret_is_unresolved(monkeypatch):
    import time

    import azure.functions as func

    from pastdue import bootstrap
    from pastdue.http.callers import billing_system
    from pastdue.http.problems import Unavailable
    from pastdue.http.signing import sign

    settings = load_settings({**GOOD, "BILLING_WEBHOOK_SECRET": UNRESOLVED})
    monkeypatch.setattr(bootstrap, "settings", lambda: settings)
    body, path = b"{}", "/api/webhooks/charge-failed"
    # Even a request signed with the reference text itself (which anyone could compute) is refused.
    header = sign(UNRESOLVED, "POST", path, body, int(time.time()))
    request = func.HttpRequest("POST", f"https://func.example{path}", headers={"Webhook-Signature": header}, body=body)
    with pytest.raises(Unavailable) as refused:
        billing_system(request)
    assert refused.value.status == 503 and refused.value.headers["Retry-After"]


STRIPE = {"PAYMENT_GATEWAY": "stripe", "STRIPE_SECRET_KEY": "sk_test_123", "STRIPE_WEBHOOK_SECRET": "whsec_abc"}


def test_the_stripe_gateway_is_selected_with_its_settings():
    settings = load_settings({**GOOD, **STRIPE, "STRIPE_WEBHOOK_SECRET": "whsec_new,whsec_old"})
    assert settings.payment_gateway == "stripe" and settings.stripe_webhook_secrets == ("whsec_new", "whsec_old")
    assert "sk_test_123" not in repr(settings)
    assert load_settings(GOOD).payment_gateway == "sandbox"


def test_the_portal_loads_stripe_js_from_stripe_unless_told_the_local_stand_ins():
    assert load_settings({**GOOD, **STRIPE}).stripe_js_url == "https://js.stripe.com/v3/"
    local = "http://127.0.0.1:12111/js/v3/stripe.js"
    assert load_settings({**GOOD, **STRIPE, "STRIPE_JS_URL": local}).stripe_js_url == local


@pytest.mark.parametrize(
    "change, message",
    [
        ({"STRIPE_SECRET_KEY": ""}, "PAYMENT_GATEWAY=stripe needs STRIPE_SECRET_KEY"),
        ({"STRIPE_WEBHOOK_SECRET": ""}, "PAYMENT_GATEWAY=stripe needs STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_SECRET_KEY": "", "STRIPE_WEBHOOK_SECRET": ""}, "STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_SECRET_KEY": "pk_test_123"}, "sk_"),
        ({"STRIPE_WEBHOOK_SECRET": "secret"}, "whsec_"),
        ({"STRIPE_WEBHOOK_SECRET": "whsec_new,secret"}, "whsec_"),
        ({"STRIPE_API_BASE": "http://stripe.example"}, "STRIPE_API_BASE"),
        ({"STRIPE_JS_URL": "http://js.stripe.example/v3/"}, "STRIPE_JS_URL"),
        ({"STRIPE_JS_URL": "js.stripe.com/v3/"}, "STRIPE_JS_URL"),
    ],
)
def test_bad_stripe_settings_make_stripe_unavailable_not_the_app(change, message):
    """A Stripe value missing or malformed is named (and alerted on, like an unresolved reference); the app
    starts, Stripe is refused before anything is sent to it, and everything else serves."""
    from pastdue.adapters.gateway import GatewayUnavailable, UnavailableGateway
    from pastdue.bootstrap import make_gateway
    from pastdue.domain.money import Money

    settings = load_settings({**GOOD, **STRIPE, **change})
    assert settings.stripe_secret_error is not None
    assert message in settings.stripe_secret_error and "malformed Stripe setting" in settings.stripe_secret_error
    assert settings.stripe_secret_key is None and settings.stripe_webhook_secrets == ()
    assert "pk_test_123" not in settings.stripe_secret_error  # the reason names the setting, not its value
    gateway = make_gateway(settings)
    assert isinstance(gateway, UnavailableGateway)
    with pytest.raises(GatewayUnavailable):
        gateway.charge("pm_1", Money(100, "EUR"), "key-1")


def test_an_unknown_payment_gateway_still_stops_the_app():
    with pytest.raises(SettingsError, match="PAYMENT_GATEWAY must be one of"):
        load_settings({**GOOD, **STRIPE, "PAYMENT_GATEWAY": "paypal"})


@pytest.mark.parametrize(
    "portal",
    [None, "", "http://localhost:5173", "https://localhost", "https://127.0.0.1:8443"],
)
def test_in_azure_the_app_refuses_to_start_without_a_public_portal_address(portal):
    """Every notice links to the portal: in Azure's mode (appservice) an empty or local address is refused
    (the local default is http://localhost:7071/portal); local runs keep it."""
    env = {k: v for k, v in GOOD.items() if k != "PORTAL_BASE_URL"}
    if portal is not None:
        env["PORTAL_BASE_URL"] = portal
    with pytest.raises(SettingsError, match="PORTAL_BASE_URL must be the portal's public https:// address"):
        load_settings(env)
    local = load_settings({**env, "PRINCIPAL_MODE": "unverified-local"})
    assert local.branding.portal_url.startswith("http")
    assert load_settings(GOOD).branding.portal_url == "https://billing.example.com"


@pytest.mark.parametrize(
    "name, message",
    [("PAYEE_NAME", "PAYEE_NAME must be the legal name"), ("SUPPORT_EMAIL", "SUPPORT_EMAIL must be the address")],
)
def test_in_azure_the_payees_legal_name_and_the_support_address_are_required(name, message):
    """Invoice payers transfer to the legal name their bank checks, and customers' replies reach support: in
    Azure's mode both must be set (local runs fall back to the brand and no Reply-To)."""
    env = {k: v for k, v in GOOD.items() if k != name}
    with pytest.raises(SettingsError, match=message):
        load_settings(env)
    local = load_settings({**env, "PRINCIPAL_MODE": "unverified-local"})
    assert (local.branding.payee_name if name == "PAYEE_NAME" else local.branding.support_email) is None
    assert load_settings(GOOD).branding.payee_name == "Example Billing SAS"


@pytest.mark.parametrize("raw, expected", [(None, 1.0), ("1.0", 1.0), ("0.25", 0.25)])
def test_the_telemetry_sampling_ratio_is_a_choice_with_a_default_of_everything(raw, expected):
    env = GOOD if raw is None else {**GOOD, "TELEMETRY_SAMPLING_RATIO": raw}
    assert load_settings(env).telemetry_sampling_ratio == expected


@pytest.mark.parametrize("raw", ["0", "1.5", "half", "-1"])
def test_a_sampling_ratio_outside_0_to_1_is_refused(raw):
    with pytest.raises(SettingsError, match="TELEMETRY_SAMPLING_RATIO"):
        load_settings({**GOOD, "TELEMETRY_SAMPLING_RATIO": raw})


@pytest.mark.parametrize(
    "change",
    [
        {"STRIPE_SECRET_KEY": UNRESOLVED},
        {"STRIPE_WEBHOOK_SECRET": UNRESOLVED},
        {"STRIPE_SECRET_KEY": UNRESOLVED, "STRIPE_WEBHOOK_SECRET": UNRESOLVED},
    ],
)
def test_unresolved_stripe_secrets_are_treated_as_the_billing_secret_is(change):
    """The app starts (no SettingsError); Stripe is refused before anything is sent to it."""
    from pastdue.adapters.gateway import GatewayUnavailable, UnavailableGateway
    from pastdue.bootstrap import make_gateway
    from pastdue.domain.money import Money

    settings = load_settings({**GOOD, **STRIPE, **change})
    assert settings.stripe_secret_error is not None
    assert "unresolved Key Vault reference" in settings.stripe_secret_error
    assert settings.stripe_secret_key is None and settings.stripe_webhook_secrets == ()
    assert all(name in settings.stripe_secret_error for name in change)
    gateway = make_gateway(settings)
    assert isinstance(gateway, UnavailableGateway)
    with pytest.raises(GatewayUnavailable):
        gateway.charge("pm_1", Money(100, "EUR"), "key-1")
    with pytest.raises(GatewayUnavailable):
        gateway.adopt("pm_1", "cus_1")


@pytest.mark.parametrize("phone", ["+353 1 555 0100", "(01) 555-0100", "+1.415.555.0100"])
def test_the_support_phone_the_bank_details_warning_names_is_one_number(phone):
    assert load_settings({**GOOD, "SUPPORT_PHONE": phone}).branding.support_phone == phone
    assert load_settings(GOOD).branding.support_phone is None


@pytest.mark.parametrize("phone", ["call us", "+353 1 555 0100; +44 20 7946 0000", "555\n0100", "12"])
def test_a_support_phone_that_is_not_one_number_is_refused(phone):
    with pytest.raises(SettingsError, match="SUPPORT_PHONE must be one phone number"):
        load_settings({**GOOD, "SUPPORT_PHONE": phone})
