"""The portal's Static Web App in the Bicep, azure.yaml's second service, and the origin the API allows: the
deployed portal's own hostname unless PORTAL_ORIGIN names a custom domain, never a local one."""

from __future__ import annotations

import json

import yaml

from tests.infra.test_bicep import INFRA, _values, parsed, resource


def _main_text() -> str:
    return (INFRA / "main.bicep").read_text()


def test_a_free_static_web_app_tagged_for_azds_portal_service():
    site = resource("modules/portal.bicep", "Microsoft.Web/staticSites")
    assert site["sku"] == {"name": "Free", "tier": "Free"}
    assert "tags: union(tags, { 'azd-service-name': 'portal' })" in (INFRA / "modules/portal.bicep").read_text()
    assert site["properties"]["stagingEnvironmentPolicy"] == "Disabled"
    # Only regions that host Static Web Apps; main.bicep picks the deployment's region when it is one.
    location = parsed("modules/portal.bicep")["parameters"]["location"]
    allowed = next(d["argument"] for d in location["decorators"] if d["type"] == "allowed")
    assert set(allowed) == {"westus2", "centralus", "eastus2", "westeurope", "eastasia"}
    main = parsed("main.bicep")
    portal = main["modules"]["portal"]["config"]
    assert portal["dependsOn"] == ["checks"] and portal["params"]["location"] == "portalLocation"
    assert main["parameters"]["portalLocation"]["default"]["operator"]["operands"]["false_value"] == "westeurope"
    assert "portal: 'stapp-pastdue-${token}'" in _main_text()
    assert set(parsed("modules/portal.bicep")["outputs"]) == {"name", "defaultHostname"}


def test_the_deployed_portals_hostname_is_the_origin_unless_portal_origin_is_given():
    text = _main_text()
    variable = parsed("main.bicep")["variables"]["portalOriginInUse"]["value"]["operator"]
    assert variable["operands"]["condition"] == {
        "function": {"type": "empty", "parameters": {"item_to_test": "portalOrigin"}}
    }
    assert variable["operands"]["true_value"] == "https://${portal.outputs.defaultHostname}"
    assert variable["operands"]["false_value"] == "portalOrigin"
    # It feeds CORS (first of the allowed origins) and the notices' links (its /portal/ pages).
    assert "var allowedOrigins = union([portalOriginInUse], additionalAllowedOrigins)" in text
    assert "allowedOrigins: allowedOrigins" in text
    assert "var noticesPortalUrl = empty(portalBaseUrl) ? '${portalOriginInUse}/portal' : portalBaseUrl" in text
    assert "PORTAL_BASE_URL: noticesPortalUrl" in text
    # What config.json and the app registration need comes out of the deployment.
    outputs = parsed("main.bicep")["outputs"]
    assert {"API_BASE_URL", "PORTAL_AUTHORITY", "PORTAL_URL", "AZURE_TENANT_ID", "PORTAL_STATIC_SITE_NAME"} <= set(
        outputs
    )
    assert "output PORTAL_URL string = '${portalOriginInUse}/portal/'" in text
    assert (
        "output PORTAL_AUTHORITY string = '${environment().authentication.loginEndpoint}${tenant().tenantId}'" in text
    )
    # No output named PORTAL_ORIGIN: azd would write it to the environment, and the next provision would take the
    # generated hostname for a custom domain.
    assert "PORTAL_ORIGIN" not in outputs


def test_a_given_origin_is_still_https_without_a_path_and_never_local():
    text = _main_text()
    rule = text[text.index("portalOriginIsHttpsAndPublic:") :].split("\n")[0]
    assert rule.startswith("portalOriginIsHttpsAndPublic: empty(portalOrigin) || (")
    for part in (
        "length(portalOrigin) >= 9",
        "startsWith(portalOrigin, 'https://')",
        "!contains(substring(portalOrigin, min(8, length(portalOrigin))), '/')",
        "!contains(toLower(portalOrigin), 'localhost')",
        "!contains(portalOrigin, '127.0.0.1')",
    ):
        assert part in rule, part
    # Nothing local anywhere in the templates' portal wiring.
    for name in ("main.bicep", "modules/portal.bicep", "main.parameters.json"):
        body = (INFRA / name).read_text()
        assert "http://localhost" not in body and "https://localhost" not in body and "//127.0.0.1" not in body, name
    assert _values()["portalOrigin"]["value"] == "${PORTAL_ORIGIN=}"


def test_azure_yaml_deploys_the_built_portal_folder_to_the_static_web_app():
    azure = yaml.safe_load((INFRA.parent / "azure.yaml").read_text())
    portal = azure["services"]["portal"]
    assert portal["host"] == "staticwebapp" and "language" not in portal  # no build: uploaded as it is
    assert portal["dist"] == ".run/portal-site"
    assert portal["hooks"]["prepackage"]["run"] == "make portal-site"
    makefile = (INFRA.parent / "Makefile").read_text()
    assert "portal-site: node_modules/.installed\n\t$(PYTHON) -m scripts.portal_site --out .run/portal-site" in makefile
    # The API service is untouched.
    assert azure["services"]["api"]["host"] == "function"
    # MSAL Browser is pinned to an exact version and never committed.
    package = json.loads((INFRA.parent / "package.json").read_text())
    version = package["devDependencies"]["@azure/msal-browser"]
    assert version.count(".") == 2 and version[0].isdigit()
    assert ".run/" in (INFRA.parent / ".gitignore").read_text().split()
