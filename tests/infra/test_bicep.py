"""The Bicep templates, parsed (pycep-parser) and checked for what an admin must be able to rely on."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

from pastdue.settings import OPTIONAL, REQUIRED

INFRA = Path(__file__).resolve().parents[2] / "infra"
FILES = sorted(INFRA.rglob("*.bicep"))


@cache
def parsed(name: str) -> Mapping[str, Any]:
    return BicepParser().parse(file_path=INFRA / name)


def resource(name: str, type_: str) -> dict:
    found = [r["config"] for r in parsed(name)["resources"].values() if r["type"] == type_ and not r["existing"]]
    assert found, f"no {type_} in {name}"
    return found[0]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_template_parses(path):
    tree = BicepParser().parse(file_path=path)
    # checks.bicep holds rules only: parameters that allow true alone.
    assert tree.get("resources") or tree.get("modules") or path.name == "checks.bicep", f"{path.name} declares nothing"


# Resource types with a switch for keys/local authentication: the first API version whose schema has
# it (older versions drop the property silently, and the keys keep working), where it is, and "off".
LOCAL_AUTH_SWITCHES = {
    "Microsoft.DocumentDB/databaseAccounts": ("2021-04-01-preview", ("disableLocalAuth",), True),
    "Microsoft.Storage/storageAccounts": ("2019-04-01", ("allowSharedKeyAccess",), False),
    "Microsoft.Insights/components": ("2020-02-02", ("DisableLocalAuth",), True),
    "Microsoft.OperationalInsights/workspaces": ("2020-08-01", ("features", "disableLocalAuth"), True),
    "Microsoft.Communication/communicationServices": ("2025-05-01", ("disableLocalAuth",), True),
}


def all_resources():
    for path in FILES:
        for name, item in parsed(str(path.relative_to(INFRA))).get("resources", {}).items():
            yield path.name, name, item


def _version(api: str) -> str:
    return api.split("-preview")[0]


def test_local_auth_is_off_on_every_resource_that_has_the_switch_at_an_api_version_that_knows_it():
    checked = set()
    for file, name, item in all_resources():
        if item["type"] not in LOCAL_AUTH_SWITCHES or item["existing"]:
            continue
        first, path, off = LOCAL_AUTH_SWITCHES[item["type"]]
        assert _version(item["api_version"]) >= _version(first), (file, name, item["api_version"])
        value = item["config"]["properties"]
        for key in path:
            value = value[key]
        assert value is off, (file, name, path)
        checked.add(item["type"])
    assert checked == set(LOCAL_AUTH_SWITCHES)
    storage = resource("modules/storage.bicep", "Microsoft.Storage/storageAccounts")["properties"]
    assert storage["allowBlobPublicAccess"] is False


def test_only_ga_api_versions():
    previews = [
        (file, name, item["api_version"]) for file, name, item in all_resources() if "preview" in item["api_version"]
    ]
    assert previews == []


# The Azure Functions app settings reference, "Flex Consumption plan deprecations": site properties and
# app settings a Flex Consumption app must not set (ARM rejects some, others are replaced).
FLEX_UNSUPPORTED_PROPERTIES = {
    "ftpsState",
    "use32BitWorkerProcess",
    "isReserved",
    "IsXenon",
    "windowsFxVersion",
    "alwaysOn",
    "preWarmedInstanceCount",
    "functionAppScaleLimit",
    "containerSize",
    "javaVersion",
    "powerShellVersion",
    "netFrameworkVersion",
    "LinuxFxVersion",
}
FLEX_UNSUPPORTED_SETTINGS = {
    "WEBSITE_NODE_DEFAULT_VERSION",
    "FUNCTIONS_EXTENSION_VERSION",
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_WORKER_RUNTIME_VERSION",
    "FUNCTIONS_MAX_HTTP_CONCURRENCY",
    "FUNCTIONS_WORKER_PROCESS_COUNT",
    "FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "WEBSITE_CONTENTSHARE",
}


def _keys(value) -> set[str]:
    found = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            found.add(key.lower())
            found |= _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _keys(inner)
    return found


def test_nothing_flex_consumption_rejects_is_set():
    site = resource("modules/functionapp.bicep", "Microsoft.Web/sites")
    assert not _keys(site["properties"]) & {p.lower() for p in FLEX_UNSUPPORTED_PROPERTIES}
    text = (INFRA / "modules/functionapp.bicep").read_text() + (INFRA / "main.bicep").read_text()
    settings = set(re.findall(r"^\s+([A-Za-z][A-Za-z0-9_]+):", text, re.M))
    assert not settings & FLEX_UNSUPPORTED_SETTINGS


def test_the_app_starts_after_the_roles_it_needs():
    function_app = parsed("main.bicep")["modules"]["functionApp"]["config"]
    assert "rbac" in function_app["dependsOn"]


def test_only_the_storage_roles_the_host_uses():
    rbac = parsed("modules/rbac.bicep")
    assert set(rbac["variables"]["roles"]["value"]) == {
        "storageBlobDataOwner",
        "storageQueueDataContributor",
        "keyVaultSecretsUser",
        "monitoringMetricsPublisher",
    }
    text = "".join(p.read_text() for p in FILES)
    assert "tableServiceUri" not in text


def test_the_sweep_queue_its_poison_queue_and_the_identity_based_trigger_connection():
    from tests.support.indexed import functions

    storage = parsed("modules/storage.bicep")["resources"]
    queues = [r for r in storage.values() if r["type"] == "Microsoft.Storage/storageAccounts/queueServices/queues"]
    assert len(queues) == 2
    text = (INFRA / "modules/storage.bicep").read_text()
    assert "name: sweepQueueName" in text and "name: '${sweepQueueName}-poison'" in text
    # The trigger's connection is the setting prefix the queue trigger names, identity-based: no key anywhere.
    trigger = next(f.get_trigger() for f in functions() if f.get_function_name() == "sweep_shard")
    app = (INFRA / "modules/functionapp.bicep").read_text()
    for suffix in (
        "queueServiceUri: storageQueueEndpoint",
        "credential: 'managedidentity'",
        "clientId: identityClientId",
    ):
        assert f"{trigger.connection}__{suffix}" in app
    assert trigger.queue_name == "%SWEEP_QUEUE%"
    main = (INFRA / "main.bicep").read_text()
    assert "SWEEP_QUEUE: storage.outputs.sweepQueueName" in main and "SWEEP_SHARDS: string(sweepShards)" in main
    shards = parsed("main.bicep")["parameters"]["sweepShards"]
    assert shards["default"] == 8 and "64" in str(shards["decorators"])


def test_email_quota_defaults_follow_the_domain_kind():
    main = parsed("main.bicep")
    assert main["variables"]["quotaDefaults"]["value"] == {
        "AzureManaged": {"perMinute": 5, "perHour": 10},
        "CustomerManaged": {"perMinute": 30, "perHour": 100},
    }
    assert main["parameters"]["emailQuotaPerMinute"]["default"] == 0
    assert main["parameters"]["emailQuotaPerHour"]["default"] == 0
    text = (INFRA / "main.bicep").read_text()
    assert "EMAIL_QUOTA_PER_MINUTE: string(quotaPerMinute)" in text


def test_a_custom_domain_is_linked_only_once_verified():
    module = parsed("modules/communication.bicep")
    assert module["parameters"]["customDomainVerified"]["default"] is False
    acs = resource("modules/communication.bicep", "Microsoft.Communication/communicationServices")
    linked = acs["properties"]["linkedDomains"]["operator"]
    assert linked["type"] == "conditional" and linked["operands"]["condition"] == "linkCustom"
    assert json.dumps(linked["operands"]["false_value"]).count("customEmailDomain") == 0
    assert module["variables"]["linkCustom"]["value"]["operator"]["type"] == "and"
    assert "customDomainVerified" in json.dumps(module["variables"]["linkCustom"])
    assert "CUSTOM_DOMAIN_DNS_RECORDS" in parsed("main.bicep")["outputs"]


AZURE_CLI = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"  # the Azure CLI's public client id (az login)
PORTAL = "11111111-2222-3333-4444-555555555555"


def _accepted(claims: dict) -> bool:
    """App Service Authentication's documented checks of a bearer token, with what the Bicep configures:
    its `aud` is one of allowedAudiences, and the client it was issued to (`azp` in v2 tokens, `appid` in
    v1) one of defaultAuthorizationPolicy.allowedApplications (the portal's, then supportClientIds)."""
    auth = next(
        r["config"]
        for r in parsed("modules/functionapp.bicep")["resources"].values()
        if r["type"] == "Microsoft.Web/sites/config"
    )
    validation = auth["properties"]["identityProviders"]["azureActiveDirectory"]["validation"]
    text = (INFRA / "modules/functionapp.bicep").read_text()
    assert "allowedApplications: union([portalClientId], supportClientIds)" in text
    assert "allowedAudiences: ['api://${portalClientId}', portalClientId]" in text
    main = parsed("main.bicep")
    assert "supportClientIds: supportClientIds" in (INFRA / "main.bicep").read_text()
    audiences = {f"api://{PORTAL}", PORTAL}
    applications = [PORTAL, *main["parameters"]["supportClientIds"]["default"]]
    assert validation["allowedAudiences"] and validation["defaultAuthorizationPolicy"]
    client = claims.get("azp") or claims.get("appid")
    return claims["aud"] in audiences and client in applications


def test_portal_tokens_and_the_support_clis_are_accepted_and_no_other_apps():
    # The portal's token (MSAL in the front end, v2).
    assert _accepted({"aud": PORTAL, "azp": PORTAL, "ver": "2.0", "oid": "admin-oid"})
    # `az login` then `python -m pastdue.support_cli --scope api://<portal>/.default`: azure-identity asks the
    # Azure CLI for a token, which is issued to the Azure CLI's client (v1 token: appid; v2: azp).
    assert _accepted(
        {"aud": f"api://{PORTAL}", "appid": AZURE_CLI, "ver": "1.0", "oid": "agent-oid", "roles": ["Billing.Support"]}
    )
    assert _accepted({"aud": PORTAL, "azp": AZURE_CLI, "ver": "2.0", "oid": "agent-oid"})
    # Any other app of the tenant, or a token for another API, is refused.
    assert not _accepted({"aud": PORTAL, "azp": "99999999-0000-0000-0000-000000000000", "ver": "2.0"})
    assert not _accepted({"aud": "https://management.azure.com", "appid": AZURE_CLI, "ver": "1.0"})
    readme = (INFRA.parent / "README.md").read_text()
    assert "preAuthorizedApplications" in readme and AZURE_CLI in readme


def test_the_key_vault_name_can_change_to_avoid_a_soft_deleted_one():
    main = parsed("main.bicep")
    assert main["parameters"]["keyVaultNameSuffix"]["default"] == ""
    names = (INFRA / "main.bicep").read_text()
    assert "keyVault: 'kv-pastdue-${take(token, 8)}${keyVaultNameSuffix}'" in names  # 24 characters at most


def test_tls_https_and_ftp():
    storage = resource("modules/storage.bicep", "Microsoft.Storage/storageAccounts")["properties"]
    assert storage["minimumTlsVersion"] == "TLS1_2" and storage["supportsHttpsTrafficOnly"] is True
    assert (
        resource("modules/cosmos.bicep", "Microsoft.DocumentDB/databaseAccounts")["properties"]["minimalTlsVersion"]
        == "Tls12"
    )
    site = resource("modules/functionapp.bicep", "Microsoft.Web/sites")
    assert site["properties"]["httpsOnly"] is True
    config = site["properties"]["siteConfig"]
    assert config["minTlsVersion"] == "1.2"
    policies = [
        r["config"]
        for r in parsed("modules/functionapp.bicep")["resources"].values()
        if r["type"] == "Microsoft.Web/sites/basicPublishingCredentialsPolicies"
    ]
    assert {p["name"] for p in policies} == {"ftp", "scm"} and all(p["properties"]["allow"] is False for p in policies)


def test_flex_consumption_python_311_with_identity_based_storage():
    plan = resource("modules/functionapp.bicep", "Microsoft.Web/serverfarms")
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    site = resource("modules/functionapp.bicep", "Microsoft.Web/sites")
    assert site["identity"]["type"] == "UserAssigned"
    config = site["properties"]["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.11"}
    assert config["deployment"]["storage"]["authentication"]["type"] == "UserAssignedIdentity"
    text = (INFRA / "modules/functionapp.bicep").read_text()
    assert "AzureWebJobsStorage__credential: 'managedidentity'" in text
    assert not re.search(r"AccountKey=|SharedAccessSignature|listKeys\(", "".join(p.read_text() for p in FILES))


def test_the_cosmos_data_plane_role_and_the_key_vault_reference():
    rbac = parsed("modules/rbac.bicep")
    assert rbac["variables"]["cosmosDataContributor"]["value"] == "00000000-0000-0000-0000-000000000002"
    assignment = next(
        r for r in rbac["resources"].values() if r["type"] == "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments"
    )
    assert "guid" in json.dumps(assignment["config"]["name"])
    roles = rbac["variables"]["roles"]["value"]
    assert roles["keyVaultSecretsUser"] == "4633458b-17de-408a-b874-0445c86b69e6"
    main = (INFRA / "main.bicep").read_text()
    assert "BILLING_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.webhookSecretUri})'" in main
    vault = resource("modules/keyvault.bicep", "Microsoft.KeyVault/vaults")["properties"]
    assert vault["enableRbacAuthorization"] is True and vault["enablePurgeProtection"] is True


def test_no_secret_has_a_default_and_cors_is_never_a_wildcard():
    secure = [
        (f.name, n, p)
        for f in FILES
        for n, p in BicepParser().parse(file_path=f)["parameters"].items()
        if any(d["type"] == "secure" for d in p["decorators"])
    ]
    # No secret has a value by default; the optional Stripe ones default to empty ("not used"), which the
    # app refuses at start if PAYMENT_GATEWAY=stripe.
    assert secure and all(p["default"] in (None, "") for _, _, p in secure)
    required = {(file, name) for file, name, p in secure if p["default"] is None}
    assert ("main.bicep", "billingWebhookSecret") in required
    main = parsed("main.bicep")
    assert "'*'" not in (INFRA / "modules/functionapp.bicep").read_text()
    # The app refuses a webhook secret shorter than 16 characters at start: so does the deployment.
    secret = main["parameters"]["billingWebhookSecret"]
    assert {"type": "min_length", "argument": 16} in secret["decorators"]


def test_the_containers_and_the_indexes_the_code_needs():
    from pastdue.adapters.cosmos.connection import CONTAINERS

    declared = {c["name"]: c for c in parsed("modules/cosmos.bicep")["variables"]["containers"]["value"]}
    assert {name: c["partitionKey"] for name, c in declared.items()} == CONTAINERS
    # The sweep and the drain query on these; the bounce handler looks accounts up by admin e-mail.
    assert {"/nextActionAt/?", "/noticesDueAt/?", "/admin/email/?"} <= set(declared["accounts"]["included"])
    # GET history pages the archived records by seq (ORDER BY needs the range index), filtered by type and
    # subscription; they expire by a TTL of their own, which needs TTL on for the container.
    assert {"/type/?", "/seq/?", "/subscriptionIds/[]/?"} <= set(declared["accounts"]["included"])
    # Support lists accounts by state and by the next disable or deletion.
    assert {"/states/[]/?", "/nextDisableAt/?", "/nextDeletionAt/?"} <= set(declared["accounts"]["included"])
    # A sweep shard asks for its slots' due accounts: slot equality and a time range, one composite index.
    assert "/sweepSlot/?" in declared["accounts"]["included"]
    cosmos = (INFRA / "modules/cosmos.bicep").read_text()
    assert "[{ path: '/sweepSlot', order: 'ascending' }, { path: '/nextActionAt', order: 'ascending' }]" in cosmos
    assert "compositeIndexes: c.?composite ?? []" in cosmos
    assert declared["control"]["ttl"] is True  # sweep runs expire
    assert declared["accounts"]["ttl"] is True
    assert "c.ttl ? { defaultTtl: -1 } : {}" in (INFRA / "modules/cosmos.bicep").read_text()
    main = parsed("main.bicep")["parameters"]["historyRetentionDays"]
    from pastdue.domain.retention import DEFAULT_RETENTION_DAYS

    assert main["default"] == DEFAULT_RETENTION_DAYS and any(
        d.get("value") == 400 or "400" in str(d) for d in main["decorators"]
    )
    assert "{ path: '/*' }" in (INFRA / "modules/cosmos.bicep").read_text()


def test_every_setting_the_app_reads_at_start_is_set_by_the_bicep():
    main = (INFRA / "main.bicep").read_text()
    block = main[main.index("appSettings: union(stripeSettings, {") :]
    stripe = main[main.index("var stripeSettings") :]
    set_by_bicep = set(re.findall(r"^\s+([A-Z][A-Z0-9_]+):", block[: block.index("})\n")], re.M))
    set_by_bicep |= set(re.findall(r"^\s+([A-Z][A-Z0-9_]+):", stripe[: stripe.index("} : {}")], re.M))
    assert set(REQUIRED) <= set_by_bicep, set(REQUIRED) - set_by_bicep
    assert set_by_bicep <= set(REQUIRED) | set(OPTIONAL), set_by_bicep - set(REQUIRED) - set(OPTIONAL)
    assert "ACS_ENDPOINT" in set_by_bicep and "SWEEP_SCHEDULE" in set_by_bicep
    assert {"PAYMENT_GATEWAY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"} <= set_by_bicep
    # Stripe's secrets reach the app only as Key Vault references.
    assert "STRIPE_SECRET_KEY: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.stripeSecretKeyUri})'" in main
    assert "STRIPE_WEBHOOK_URL" in parsed("main.bicep")["outputs"]


DEV_TOOLING = [
    ".run/host.log",
    ".pytest_cache/v/cache/nodeids",
    ".ruff_cache/0.1/x",
    ".hypothesis/examples/x",
    ".venv/bin/python",
    ".venv-checkov/bin/python",
    "node_modules/maildev/package.json",
    "tests/conftest.py",
    "bench/sweep.py",
    "devhost/host.py",
    "docs/design.md",
    "infra/main.bicep",
    ".ci/run",
    "Makefile",
    "local.settings.json",
    "requirements-dev.txt",
    "package.json",
    ".git/HEAD",
    ".github/x.yml",
    "pastdue/__pycache__/x.pyc",
    "scripts/smoke.py",
    "README.md",
    ".coverage",
    "htmlcov/index.html",
]


def test_the_deployment_package_holds_the_app_and_none_of_the_dev_tooling():
    """The file list azd packages for a function app: the project folder less what .funcignore names."""
    import subprocess

    import pathspec

    root = INFRA.parent
    spec = pathspec.GitIgnoreSpec.from_lines((root / ".funcignore").read_text().splitlines())
    shipped = [f for f in DEV_TOOLING if not spec.match_file(f)]
    assert shipped == []
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.split()
    package = [f for f in tracked if not spec.match_file(f)]
    assert "function_app.py" in package and "host.json" in package and "requirements.txt" in package
    assert any(f.startswith("functions/charge_failed/") for f in package)
    assert any(f.startswith("pastdue/notices/templates/") for f in package)
    assert "pastdue/policy/default.yaml" in package
    assert all(
        f.split("/")[0] in {"function_app.py", "host.json", "requirements.txt", "functions", "pastdue"} for f in package
    ), package


def _metric_names(query: str) -> set[str]:
    """The custom metrics a KQL query reads: name == "x" and name in ("x", "y")."""
    names = set(re.findall(r'name\s*==\s*"([^"]+)"', query))
    for group in re.findall(r"name\s+in\s*\(([^)]*)\)", query):
        names |= set(re.findall(r'"([^"]+)"', group))
    return names


def test_the_workbook_shows_the_funnel_the_risk_the_states_and_what_comes_next_from_metrics_the_code_emits():
    from pastdue.adapters.telemetry import METRICS

    workbook = json.loads((INFRA / "modules/workbook.json").read_text())
    queries = {item["name"]: item["content"]["query"] for item in workbook["items"] if item["type"] == 3}
    assert {"recovery-funnel", "revenue-at-risk", "accounts-by-state", "upcoming"} <= set(queries)
    read = set().union(*(_metric_names(q) for q in queries.values()))
    assert read and read <= set(METRICS), read - set(METRICS)  # nothing the code does not emit
    assert {
        "pastdue_charges_failed",
        "pastdue_charges_recovered",
        "pastdue_revenue_at_risk",
        "pastdue_accounts_by_state",
        "pastdue_upcoming_disables",
        "pastdue_upcoming_deletions",
    } <= read
    assert "daysSinceFailure" in queries["recovery-funnel"]
    alerts = (INFRA / "modules/alerts.bicep").read_text()
    assert (
        "replace(loadTextContent('workbook.json'), '\"fallbackResourceIds\": []', "
        '\'"fallbackResourceIds": ["${insights.id}"]\')' in alerts
    )
    assert '"fallbackResourceIds": []' in (INFRA / "modules/workbook.json").read_text()


def test_the_alert_rules_cover_the_sweep_notices_quarantine_5xx_and_throttling_and_reach_the_action_group():
    from pastdue.adapters.telemetry import METRICS

    module = parsed("modules/alerts.bicep")
    rules = {r["name"]: r for r in module["variables"]["rules"]["value"]}
    assert {
        "sweep-missing-or-failed",
        "notices-failing",
        "accounts-quarantined",
        "server-errors",
        "email-throttled",
        "deletions-held",
        "payments-unexpected",
        "secret-unresolved",
    } <= set(rules)
    assert "ago(26h)" in rules["sweep-missing-or-failed"]["query"]
    assert "daily_sweep summary" in rules["sweep-missing-or-failed"]["query"]
    for rule in rules.values():
        assert _metric_names(rule["query"]) <= set(METRICS), rule["name"]
        assert 0 <= rule["severity"] <= 4
    text = (INFRA / "modules/alerts.bicep").read_text()
    assert "actions: { actionGroups: [team.id] }" in text
    # What the rules look for is what the code logs.
    root = INFRA.parent
    assert '"daily_sweep summary %s"' in (root / "pastdue/services/sweep.py").read_text()
    assert '"to the poison queue"' in rules["sweep-missing-or-failed"]["query"]
    assert "failed on its last try, to the poison queue" in (root / "pastdue/services/sweep.py").read_text()
    assert "sweep deletion cap reached" in (root / "pastdue/services/sweep.py").read_text()
    assert '"unresolved Key Vault reference"' in rules["secret-unresolved"]["query"]
    assert "unresolved Key Vault reference;" in (root / "pastdue/settings.py").read_text()


def test_the_brand_customers_see_must_be_given_at_deployment():
    """No deployment sends notices signed by a placeholder: the brand has no default and cannot be empty."""
    main = parsed("main.bicep")
    brand = main["parameters"]["brandName"]
    assert brand.get("default") is None and {"type": "min_length", "argument": 1} in brand["decorators"]
    assert "@minLength(1)\nparam brandName string\n" in (INFRA / "main.bicep").read_text()
    values = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert values["brandName"]["value"] == "${BRAND_NAME}"
    assert "azd env set BRAND_NAME" in (INFRA.parent / "README.md").read_text()


def test_secrets_are_referenced_by_version_so_a_rotation_reaches_the_app_within_minutes():
    """A Key Vault reference without a version is cached up to 24 hours; a versioned one changes with each
    new value (the app setting changes, the app restarts with it)."""
    outputs = parsed("modules/keyvault.bicep")["outputs"]
    for name in ("webhookSecretUri", "stripeSecretKeyUri", "stripeWebhookSecretUri"):
        assert "secretUriWithVersion" in json.dumps(outputs[name]["value"]), name
    main = (INFRA / "main.bicep").read_text()
    for setting, output in (
        ("BILLING_WEBHOOK_SECRET", "webhookSecretUri"),
        ("STRIPE_SECRET_KEY", "stripeSecretKeyUri"),
        ("STRIPE_WEBHOOK_SECRET", "stripeWebhookSecretUri"),
    ):
        assert f"{setting}: '@Microsoft.KeyVault(SecretUri=${{keyVault.outputs.{output}}})'" in main
    assert "'${vault.properties.vaultUri}secrets/" not in (INFRA / "modules/keyvault.bicep").read_text()
    assert "*version*" in (INFRA.parent / "README.md").read_text()


def test_alert_rules_query_as_their_own_identity_with_reader_on_application_insights():
    module = parsed("modules/alerts.bicep")["resources"]
    rules = module["alerts"]
    assert rules["type"] == "Microsoft.Insights/scheduledQueryRules" and rules["api_version"] >= "2023-12-01"
    assert rules["config"]["config"]["identity"] == {"type": "SystemAssigned"}
    readers = module["alertReaders"]
    assert readers["type"] == "Microsoft.Authorization/roleAssignments"
    assert readers["config"]["loop_type"]["detail"]["array_name"] == "rules"  # one per rule
    text = (INFRA / "modules/alerts.bicep").read_text()
    assert "var readerRole = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'" in text  # Reader
    assert "principalId: alerts[i].identity.principalId" in text and "scope: insights" in text


def test_the_no_sweep_alert_is_quiet_until_the_app_has_run_26_hours():
    rules = {r["name"]: r for r in parsed("modules/alerts.bicep")["variables"]["rules"]["value"]}
    query = rules["sweep-missing-or-failed"]["query"]
    assert "summarize min(timestamp)) < ago(26h)" in query and "Count == 0 and running" in query


def test_capacity_mode_serverless_to_provisioned_in_place_is_followed_and_said():
    """Cosmos changes a serverless account to provisioned in place, for good; after it the account has no
    serverless capability and its database no shared throughput (only given at creation), while each
    container has throughput of its own: the third mode sends neither, and the README says what it costs."""
    mode = parsed("main.bicep")["parameters"]["cosmosCapacityMode"]
    allowed = next(d["argument"] for d in mode["decorators"] if d["type"] == "allowed")
    assert allowed == ["serverless", "provisioned", "provisionedFromServerless"] and mode["default"] == "serverless"
    cosmos = (INFRA / "modules/cosmos.bicep").read_text()
    assert "capabilities: capacityMode == 'serverless' ? [{ name: 'EnableServerless' }] : []" in cosmos
    assert "options: capacityMode == 'provisioned' ? { autoscaleSettings:" in cosmos
    assert "@allowed(['serverless', 'provisioned', 'provisionedFromServerless'])" in cosmos
    readme = (INFRA.parent / "README.md").read_text()
    assert "COSMOS_CAPACITY_MODE provisionedFromServerless" in readme
    assert "one way only" in readme and "5,000 RU/s" in readme


def test_delivery_reports_that_cannot_be_delivered_are_dead_lettered_to_blob_storage():
    subscription = resource("modules/deliveryreports.bicep", "Microsoft.EventGrid/systemTopics/eventSubscriptions")
    dead = subscription["properties"]["deadLetterWithResourceIdentity"]
    assert dead["identity"] == {"type": "SystemAssigned"}
    assert dead["deadLetterDestination"]["endpointType"] == "StorageBlob"
    topic = resource("modules/deliveryreports.bicep", "Microsoft.EventGrid/systemTopics")
    assert topic["identity"] == {"type": "SystemAssigned"}
    text = (INFRA / "modules/deliveryreports.bicep").read_text()
    assert "ba92f5b4-2d11-453d-a403-e96b0029c9fe" in text and "principalId: topic.identity.principalId" in text
    containers = [
        r
        for r in parsed("modules/storage.bicep")["resources"].values()
        if r["type"] == "Microsoft.Storage/storageAccounts/blobServices/containers"
    ]
    assert any(c["config"]["name"] == "deliveryreports-deadletter" for c in containers)
    assert "deadLetterContainer: storage.outputs.deadLetterContainer" in (INFRA / "main.bicep").read_text()


# --- Deploy and operate, round three: nothing ships silently wrong, and someone hears every alert ----------


def _values() -> dict:
    return json.loads((INFRA / "main.parameters.json").read_text())["parameters"]


def _decorator(param: dict, kind: str):
    return next((d.get("argument") for d in param["decorators"] if d["type"] == kind), None)


def test_the_portal_origin_is_optional_a_string_and_cors_is_built_from_it_in_bicep():
    """PORTAL_ORIGIN is now optional: left empty, the deployed portal's own hostname is the origin
    (tests/infra/test_portal_site.py). Given, it is a string (an array holding it, [""], once passed
    @minLength(1) unasked), checked like before."""
    main = parsed("main.bicep")
    origin = main["parameters"]["portalOrigin"]
    assert origin["type"] == "string" and origin.get("default") == ""
    assert "allowedOrigins" not in main["parameters"]
    assert _values()["portalOrigin"]["value"] == "${PORTAL_ORIGIN=}"  # empty unless set: the deployed portal
    text = (INFRA / "main.bicep").read_text()
    assert "var allowedOrigins = union([portalOriginInUse], additionalAllowedOrigins)" in text
    assert "param portalBaseUrl string = ''" in text and "PORTAL_BASE_URL: noticesPortalUrl" in text
    # https, no path, not local: checked before anything is created, and by the app at start.
    assert "portalOriginIsHttpsAndPublic: empty(portalOrigin) || (length(portalOrigin) >= 9 && startsWith(" in text
    assert "!contains(toLower(portalOrigin), 'localhost')" in text and "!contains(portalOrigin, '127.0.0.1')" in text


def test_rules_decorators_cannot_say_stop_the_deployment_before_anything_is_created():
    checks = parsed("modules/checks.bicep")["parameters"]
    assert set(checks) == {
        "portalOriginIsHttpsAndPublic",
        "everyBillingWebhookSecretIsAtLeast16Characters",
        "stripeSettingsAreWellFormed",
        "alertEmailIsAnAddress",
        "supportEmailIsOneAddress",
        "secretsExpireInTheFuture",
    }
    for name, param in checks.items():
        assert param["type"] == "bool" and _decorator(param, "allowed") == [True], name
        assert param.get("default") is None, name
    main = parsed("main.bicep")
    assert set(main["modules"]["checks"]["config"]["params"]) == set(checks)
    # Every module that creates something waits for the checks (the app through rbac, alerts through the app).
    for name, module in main["modules"].items():
        if name in ("checks", "functionApp", "alerts", "deliveryReports", "rbac"):
            continue
        config = module["config"].get("config", module["config"])  # a conditional module nests its body
        assert "checks" in config.get("dependsOn", []), name
    assert "rbac" in main["modules"]["functionApp"]["config"]["dependsOn"]


def test_each_part_of_the_webhook_secrets_is_checked_in_bicep():
    text = (INFRA / "main.bicep").read_text()
    assert (
        "var billingWebhookSecretLengths = [for part in split(billingWebhookSecret, ','): length(trim(part))]" in text
    )
    assert "everyBillingWebhookSecretIsAtLeast16Characters: min(billingWebhookSecretLengths) >= 16" in text
    assert "[for part in split(stripeWebhookSecret, ','): startsWith(trim(part), 'whsec_')]" in text
    assert (
        "paymentGateway != 'stripe' || ((startsWith(stripeSecretKey, 'sk_') || startsWith(stripeSecretKey, 'rk_'))"
        in text
    )
    assert "!contains(stripeWebhookSecretsWellFormed, false)" in text


def test_alerts_reach_someone_the_address_is_asked_for_and_the_subscription_owners_are_told_too():
    main = parsed("main.bicep")
    email = main["parameters"]["alertEmail"]
    assert email.get("default") is None and _decorator(email, "min_length") == 3
    assert _values()["alertEmail"]["value"] == "${ALERT_EMAIL}"
    assert main["parameters"]["alertSubscriptionOwners"]["default"] is True
    group = resource("modules/alerts.bicep", "Microsoft.Insights/actionGroups")["properties"]
    assert group["emailReceivers"]["loop_type"]["detail"]["array_name"] == "alertEmails"
    text = (INFRA / "modules/alerts.bicep").read_text()
    assert "{ name: 'subscription-owners', roleId: ownerRole, useCommonAlertSchema: true }" in text
    assert "var ownerRole = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635'" in text  # Owner
    readme = (INFRA.parent / "README.md").read_text()
    assert "azd env set ALERT_EMAIL" in readme and "armRoleReceivers" in readme


def test_the_no_sweep_alert_fires_on_silence_and_an_availability_test_watches_health():
    rules = {r["name"]: r for r in parsed("modules/alerts.bicep")["variables"]["rules"]["value"]}
    query = rules["sweep-missing-or-failed"]["query"]
    # The environment's age comes from the availability results, which keep coming when the app is silent.
    assert "toscalar(union availabilityResults, traces | where timestamp > ago(2d) | summarize min(timestamp))" in query
    assert "Count == 0 and running" in query
    test = resource("modules/alerts.bicep", "Microsoft.Insights/webtests")
    assert test["kind"] == "standard" and test["properties"]["Kind"] == "standard"
    assert test["properties"]["Request"]["HttpVerb"] == "GET"
    assert len(test["properties"]["Locations"]) == 5
    assert test["properties"]["ValidationRules"]["ExpectedHttpStatusCode"] == 200
    text = (INFRA / "modules/alerts.bicep").read_text()
    assert "tags: union(tags, { 'hidden-link:${insights.id}': 'Resource' })" in text
    main = (INFRA / "main.bicep").read_text()
    assert "healthUrl: 'https://${functionApp.outputs.defaultHostName}/api/health'" in main
    alert = resource("modules/alerts.bicep", "Microsoft.Insights/metricAlerts")["properties"]
    assert alert["criteria"]["'odata.type'"] == "Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria"
    assert alert["criteria"]["failedLocationCount"] == 2 and alert["severity"] == 0
    assert "actions: [{ actionGroupId: team.id }]" in text


def test_log_alert_rules_may_read_the_workspace_their_data_lives_in():
    module = parsed("modules/alerts.bicep")["resources"]
    readers = module["alertLogReaders"]
    assert readers["type"] == "Microsoft.Authorization/roleAssignments"
    assert readers["config"]["loop_type"]["detail"]["array_name"] == "rules"
    text = (INFRA / "modules/alerts.bicep").read_text()
    assert "scope: logs" in text and "name: guid(logs.id, '${insightsName}-${rule.name}', readerRole)" in text
    assert "logsName: monitoring.outputs.logsName" in (INFRA / "main.bicep").read_text()


def test_an_unchanged_secret_stays_one_version():
    """The expiry is a date given once (SECRETS_EXPIRE_ON), not utcNow() + 1 year on every deployment."""
    keyvault = (INFRA / "modules/keyvault.bicep").read_text()
    assert "utcNow" not in keyvault and "dateTimeAdd" not in keyvault
    assert "var expiry = dateTimeToEpoch('${expiresOn}T00:00:00Z')" in keyvault
    assert keyvault.count("attributes: { enabled: true, exp: expiry }") == 2
    expiry = parsed("main.bicep")["parameters"]["secretsExpireOn"]
    assert expiry.get("default") is None and _decorator(expiry, "min_length") == 10
    assert _values()["secretsExpireOn"]["value"] == "${SECRETS_EXPIRE_ON}"
    assert "expiresOn: secretsExpireOn" in (INFRA / "main.bicep").read_text()
    assert "azd env set SECRETS_EXPIRE_ON" in (INFRA.parent / "README.md").read_text()


def test_a_malformed_stripe_setting_is_alerted_on_like_an_unresolved_secret():
    from pastdue.settings import malformed_stripe

    rules = {r["name"]: r for r in parsed("modules/alerts.bicep")["variables"]["rules"]["value"]}
    assert '"malformed Stripe setting"' in rules["secret-unresolved"]["query"]
    assert "malformed Stripe setting" in malformed_stripe("x")


def test_the_event_grid_topic_may_write_to_the_dead_letter_container_only():
    text = (INFRA / "modules/deliveryreports.bicep").read_text()
    assert "name: '${storageName}/default/${deadLetterContainer}'" in text
    assert "scope: deadLetters" in text and "scope: storage" not in text
    readme = (INFRA.parent / "README.md").read_text()
    assert "functionName=email_events" in readme and "eventgrid_extension" in readme


def test_only_regions_with_flex_consumption_and_zone_redundant_storage():
    location = parsed("main.bicep")["parameters"]["location"]
    allowed = _decorator(location, "allowed")
    assert allowed and {"westeurope", "northeurope", "eastus", "swedencentral"} <= set(allowed)
    # No availability zones (so no ZRS), or no Flex Consumption: not offered.
    assert not {"northcentralus", "westus", "westcentralus", "ukwest", "francesouth"} & set(allowed)
    assert _decorator(location, "metadata") == {"azd": {"type": "location"}}
    assert resource("modules/storage.bicep", "Microsoft.Storage/storageAccounts")["sku"] == {"name": "Standard_ZRS"}


def test_least_privilege_queue_roles_on_the_two_queues_and_the_cosmos_role_on_the_database():
    rbac = (INFRA / "modules/rbac.bicep").read_text()
    assert "scope: sweepQueue" in rbac and "scope: sweepPoisonQueue" in rbac
    assert rbac.count("roles.storageQueueDataContributor)") == 4  # name and role of each of the two
    assert "name: '${storageName}/default/${sweepQueueName}'" in rbac
    assert "scope: '${cosmos.id}/dbs/${cosmosDatabaseName}'" in rbac and "scope: cosmos.id" not in rbac
    main = (INFRA / "main.bicep").read_text()
    assert "sweepPoisonQueueName: storage.outputs.sweepPoisonQueueName" in main
    assert "cosmosDatabaseName: cosmos.outputs.databaseName" in main
    # The e-mail sender's custom role, and what it allows beyond sending, written down.
    assert "CommunicationServices/Write also lets the identity change this one resource" in rbac
    assert "Microsoft.Communication/EmailServices/write" in (INFRA.parent / "README.md").read_text()


def test_a_budget_a_daily_cap_and_sampling_chosen_on_purpose():
    main = parsed("main.bicep")["parameters"]
    assert main["monthlyBudget"]["default"] == 0 and main["logsDailyCapGb"]["default"] == 5
    assert main["telemetrySamplingRatio"]["default"] == "1.0"
    budget = resource("modules/alerts.bicep", "Microsoft.Consumption/budgets")["config"]  # if (monthlyBudget > 0)
    assert budget["properties"]["timeGrain"] == "Monthly" and budget["properties"]["category"] == "Cost"
    assert set(budget["properties"]["notifications"]) == {"actual80", "forecast100"}
    text = (INFRA / "modules/alerts.bicep").read_text()
    assert "resource budget 'Microsoft.Consumption/budgets@2021-10-01' = if (monthlyBudget > 0)" in text
    logs = resource("modules/monitoring.bicep", "Microsoft.OperationalInsights/workspaces")["properties"]
    assert logs["workspaceCapping"] == {"dailyQuotaGb": "dailyCapGb"}
    assert "TELEMETRY_SAMPLING_RATIO: telemetrySamplingRatio" in (INFRA / "main.bicep").read_text()
    values = _values()
    assert values["monthlyBudget"]["value"] == "${MONTHLY_BUDGET=0}"
    assert values["logsDailyCapGb"]["value"] == "${LOGS_DAILY_CAP_GB=5}"


def test_every_parameter_azd_passes_is_one_main_bicep_declares():
    declared = set(parsed("main.bicep")["parameters"])
    assert set(_values()) <= declared, set(_values()) - declared


def test_azd_builds_remotely_and_secrets_are_kept_in_key_vault_for_azd_too():
    import yaml

    azure = yaml.safe_load((INFRA.parent / "azure.yaml").read_text())
    assert azure["services"]["api"]["remoteBuild"] is True and azure["services"]["api"]["host"] == "function"
    readme = (INFRA.parent / "README.md").read_text()
    assert "azd env set-secret STRIPE_SECRET_KEY" in readme and "azd env set-secret BILLING_WEBHOOK_SECRET" in readme
    assert "azd env set STRIPE_SECRET_KEY" not in readme


def test_the_readme_adds_the_azure_cli_to_the_pre_authorized_applications_without_overwriting_them():
    readme = (INFRA.parent / "README.md").read_text()
    assert "preAuthorizedApplications" in readme and "az ad app update --id" in readme
    assert "--identifier-uris" in readme  # how the api:// scope is exposed
    assert '"{\\"api\\": {\\"preAuthorizedApplications\\": [{' not in readme  # the overwriting PATCH is gone


def test_the_payees_legal_name_and_the_support_address_are_asked_for_and_reach_the_app():
    """Banks check a transfer's payee against the account holder's legal name, and a notice's Reply-To is the
    support address: both are parameters azd asks for (no default), checked, and set on the app."""
    main = parsed("main.bicep")
    for name, variable in (("payeeName", "PAYEE_NAME"), ("supportEmail", "SUPPORT_EMAIL")):
        param = main["parameters"][name]
        assert param["type"] == "string" and param.get("default") is None, name
        assert _values()[name]["value"] == "${" + variable + "}", name  # no "=default": azd asks
    text = (INFRA / "main.bicep").read_text()
    assert "SUPPORT_EMAIL: supportEmail" in text and "PAYEE_NAME: payeeName" in text
    assert "supportEmailIsOneAddress: contains(supportEmail, '@')" in text
