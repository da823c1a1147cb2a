import pytest

from pastdue.settings import SettingsError, load_settings

GOOD = {"COSMOS_ENDPOINT": "https://db.documents.azure.com:443/", "EMAIL_SENDER": "billing@example.com",
        "BILLING_WEBHOOK_SECRET": "a-long-enough-secret", "PRINCIPAL_MODE": "appservice",
        "ACS_ENDPOINT": "https://acs.communication.azure.com"}


def test_good_settings_load_with_defaults():
    settings = load_settings(GOOD)
    assert settings.cosmos_database == "pastdue" and settings.sweep_schedule == "0 0 2 * * *"
    assert settings.email_quota_per_minute == 30 and settings.email_quota_per_hour == 100
    assert "secret" not in repr(settings)


@pytest.mark.parametrize("change, message", [
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
])
def test_a_missing_or_bad_setting_is_named(change, message):
    with pytest.raises(SettingsError, match=message):
        load_settings({**GOOD, **change})
