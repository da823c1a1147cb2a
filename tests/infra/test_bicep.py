"""The Bicep templates, parsed (pycep-parser) and checked for what an admin must be able to rely on."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import pytest
from pycep import BicepParser

from pastdue.settings import OPTIONAL, REQUIRED

INFRA = Path(__file__).resolve().parents[2] / "infra"
FILES = sorted(INFRA.rglob("*.bicep"))


@cache
def parsed(name: str) -> dict:
    return BicepParser().parse(file_path=INFRA / name)


def resource(name: str, type_: str) -> dict:
    found = [r["config"] for r in parsed(name)["resources"].values() if r["type"] == type_ and not r["existing"]]
    assert found, f"no {type_} in {name}"
    return found[0]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_template_parses(path):
    tree = BicepParser().parse(file_path=path)
    assert tree.get("resources") or tree.get("modules"), f"{path.name} declares nothing"


def test_local_auth_is_off_everywhere():
    assert resource("modules/cosmos.bicep", "Microsoft.DocumentDB/databaseAccounts")["properties"]["disableLocalAuth"]
    storage = resource("modules/storage.bicep", "Microsoft.Storage/storageAccounts")["properties"]
    assert storage["allowSharedKeyAccess"] is False and storage["allowBlobPublicAccess"] is False
    insights = resource("modules/monitoring.bicep", "Microsoft.Insights/components")["properties"]
    assert insights["DisableLocalAuth"] is True
    logs = resource("modules/monitoring.bicep", "Microsoft.OperationalInsights/workspaces")["properties"]
    assert logs["features"]["disableLocalAuth"] is True
    acs = resource("modules/communication.bicep", "Microsoft.Communication/communicationServices")["properties"]
    assert acs["disableLocalAuth"] is True


def test_tls_https_and_ftp():
    storage = resource("modules/storage.bicep", "Microsoft.Storage/storageAccounts")["properties"]
    assert storage["minimumTlsVersion"] == "TLS1_2" and storage["supportsHttpsTrafficOnly"] is True
    assert resource("modules/cosmos.bicep", "Microsoft.DocumentDB/databaseAccounts")["properties"][
        "minimalTlsVersion"] == "Tls12"
    site = resource("modules/functionapp.bicep", "Microsoft.Web/sites")
    assert site["properties"]["httpsOnly"] is True
    config = site["properties"]["siteConfig"]
    assert config["minTlsVersion"] == "1.2" and config["ftpsState"] == "Disabled"
    policies = [r["config"] for r in parsed("modules/functionapp.bicep")["resources"].values()
                if r["type"] == "Microsoft.Web/sites/basicPublishingCredentialsPolicies"]
    assert {p["name"] for p in policies} == {"ftp", "scm"} and all(p["properties"]["allow"] is False
                                                                   for p in policies)


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
    assignment = next(r for r in rbac["resources"].values()
                      if r["type"] == "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments")
    assert "guid" in json.dumps(assignment["config"]["name"])
    roles = rbac["variables"]["roles"]["value"]
    assert roles["keyVaultSecretsUser"] == "4633458b-17de-408a-b874-0445c86b69e6"
    main = (INFRA / "main.bicep").read_text()
    assert "BILLING_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.webhookSecretUri})'" in main
    vault = resource("modules/keyvault.bicep", "Microsoft.KeyVault/vaults")["properties"]
    assert vault["enableRbacAuthorization"] is True and vault["enablePurgeProtection"] is True


def test_no_secret_has_a_default_and_cors_is_never_a_wildcard():
    secure = [(f.name, n, p) for f in FILES for n, p in BicepParser().parse(file_path=f)["parameters"].items()
              if any(d["type"] == "secure" for d in p["decorators"])]
    assert secure and all(p["default"] is None for _, _, p in secure)
    main = parsed("main.bicep")
    assert main["parameters"]["allowedOrigins"]["default"] == []
    assert "'*'" not in (INFRA / "modules/functionapp.bicep").read_text()


def test_the_containers_and_the_indexes_the_code_needs():
    from pastdue.adapters.cosmos import CONTAINERS

    declared = {c["name"]: c for c in parsed("modules/cosmos.bicep")["variables"]["containers"]["value"]}
    assert {name: c["partitionKey"] for name, c in declared.items()} == CONTAINERS
    # The sweep and the drain query on these; the bounce handler looks accounts up by admin e-mail.
    assert {"/nextActionAt/?", "/noticesDueAt/?", "/admin/email/?"} <= set(declared["accounts"]["included"])
    assert "{ path: '/*' }" in (INFRA / "modules/cosmos.bicep").read_text()


def test_every_setting_the_app_reads_at_start_is_set_by_the_bicep():
    main = (INFRA / "main.bicep").read_text()
    block = main[main.index("appSettings: {"):]
    set_by_bicep = set(re.findall(r"^\s+([A-Z][A-Z0-9_]+):", block[: block.index("}\n")], re.M))
    assert set(REQUIRED) <= set_by_bicep, set(REQUIRED) - set_by_bicep
    assert set_by_bicep <= set(REQUIRED) | set(OPTIONAL), set_by_bicep - set(REQUIRED) - set(OPTIONAL)
    assert "ACS_ENDPOINT" in set_by_bicep and "SWEEP_SCHEDULE" in set_by_bicep
