"""The private-networking option (main.bicep's privateNetworking), parsed (pycep-parser) and evaluated for both
of its values: off, the deployment is the public one; on, every data service the app uses has a private endpoint
in its private DNS zone, is closed to the internet, and the app sends its traffic through the network."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re

import pytest

from tests.infra.test_bicep import FILES, INFRA, parsed

# --- a small evaluator of the parsed templates: parameters, variables, conditionals, empty(), loop items ------


def _chain(node) -> list:
    """a.b.c, which pycep nests to the right, as its parts."""
    if isinstance(node, dict) and node.get("operator", {}).get("type") == "property_accessor":
        operands = node["operator"]["operands"]
        return [operands["operand_1"], *_chain(operands["operand_2"])]
    return [node]


def evaluate(node, env: dict):
    """The value of a parsed expression with the names in env known; an unknown name or a reference to a
    resource or module stays as its text ("network.outputs.appSubnetId", "zones[2].id")."""
    if isinstance(node, str):
        if node in env:
            return env[node]
        whole = re.fullmatch(r"\$\{(\w+)\}", node)  # '${name}': the name's value
        return env[whole.group(1)] if whole and whole.group(1) in env else node
    if isinstance(node, list):
        return [evaluate(item, env) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"operator"}:
        kind, operands = node["operator"]["type"], node["operator"]["operands"]
        if kind == "conditional":
            condition = evaluate(operands["condition"], env)
            assert isinstance(condition, bool), f"condition {operands['condition']} is not known"
            return evaluate(operands["true_value" if condition else "false_value"], env)
        if kind == "property_accessor":
            first, *rest = _chain(node)
            value = evaluate(first, env)
            for part in rest:
                value = value[part] if isinstance(value, dict) and part in value else f"{value}.{part}"
            return value
        if kind == "index_accessor":
            return f"{evaluate(operands['operand_1'], env)}[{evaluate(operands['operand_2'], env)}]"
        raise AssertionError(f"operator {kind} not evaluated here")
    if set(node) == {"function"}:
        function = node["function"]
        if function["type"] == "empty":
            (argument,) = function["parameters"].values()
            return evaluate(argument, env) in ("", None, [], {})
        raise AssertionError(f"function {function['type']} not evaluated here")
    return {key: evaluate(value, env) for key, value in node.items()}


def environment(name: str, **params) -> dict:
    """A template's parameters (defaults, then the values given) and its variables, evaluated in order."""
    tree = parsed(name)
    env = {key: p.get("default") for key, p in tree["parameters"].items()}
    unknown = set(params) - set(env)
    assert not unknown, f"{name} declares no {unknown}"
    env.update(params)
    for key, variable in tree.get("variables", {}).items():
        # A variable built from something this evaluator leaves alone (a loop, another function) stays unknown.
        with contextlib.suppress(AssertionError, KeyError, TypeError):
            env[key] = evaluate(variable["value"], env)
    return env


def body(name: str, resource_name: str) -> dict:
    """A resource's configuration (under its loop or condition, if any)."""
    config = parsed(name)["resources"][resource_name]["config"]
    return config["config"] if "loop_type" in config or "condition" in config else config


def resources_of(name: str, type_: str) -> list[tuple[str, dict]]:
    return [(key, r) for key, r in parsed(name)["resources"].items() if r["type"] == type_ and not r["existing"]]


def one(name: str, type_: str) -> tuple[str, dict]:
    found = resources_of(name, type_)
    assert len(found) == 1, (name, type_, found)
    return found[0]


def network_module() -> dict:
    return parsed("main.bicep")["modules"]["network"]


def main_params(module: str) -> dict:
    config = parsed("main.bicep")["modules"][module]["config"]
    return config.get("config", config)["params"]


NETWORK_PROPERTIES = ("publicNetworkAccess", "networkAcls")


def evaluated_module(module: str, template: str, *, private: bool, resource_type: str) -> dict:
    """The network properties of template's resource of resource_type, with the privateNetworking main.bicep
    passes it when main.bicep's is `private`."""
    passed = evaluate(main_params(module)["privateNetworking"], {"privateNetworking": private})
    assert passed is private
    env = environment(template, privateNetworking=passed)
    key, _ = one(template, resource_type)
    properties = body(template, key)["properties"]
    return {name: evaluate(properties[name], env) for name in NETWORK_PROPERTIES if name in properties}


def site_subnet(**params):
    """The site's virtualNetworkSubnetId, evaluated with functionapp.bicep's parameters."""
    site = body("modules/functionapp.bicep", "app")["properties"]
    return evaluate(site["virtualNetworkSubnetId"], environment("modules/functionapp.bicep", **params))


# What Azure documents for each private endpoint: the sub-resource (group id) and the private DNS zone its name
# resolves through (Azure Private Endpoint DNS configuration, public cloud).
DOCUMENTED_ZONES = {
    "blob": "privatelink.blob.core.windows.net",
    "queue": "privatelink.queue.core.windows.net",
    "table": "privatelink.table.core.windows.net",
    "file": "privatelink.file.core.windows.net",
    "Sql": "privatelink.documents.azure.com",
    "vault": "privatelink.vaultcore.azure.net",
}

# Which module output main.bicep passes for each target, and the resource type behind that output.
TARGETS = {
    "storageId": ("storage", "modules/storage.bicep", "Microsoft.Storage/storageAccounts"),
    "cosmosId": ("cosmos", "modules/cosmos.bicep", "Microsoft.DocumentDB/databaseAccounts"),
    "keyVaultId": ("keyVault", "modules/keyvault.bicep", "Microsoft.KeyVault/vaults"),
}


def endpoints() -> list[dict]:
    return parsed("modules/network.bicep")["variables"]["endpoints"]["value"]


# --- the parameter ----------------------------------------------------------------------------------------------


def test_private_networking_is_a_described_bool_off_by_default_that_azd_sets():
    main = parsed("main.bicep")["parameters"]
    param = main["privateNetworking"]
    assert param["type"] == "bool" and param["default"] is False
    description = next(d["argument"] for d in param["decorators"] if d["type"] == "description")
    assert "Key Vault references" in description and "Communication Services" in description
    values = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    assert values["privateNetworking"]["value"] == "${PRIVATE_NETWORKING=false}"
    # Each address parameter is mapped with the Bicep default as azd's default.
    for name, variable in (
        ("privateNetworkAddressSpace", "PRIVATE_NETWORK_ADDRESS_SPACE"),
        ("privateAppSubnetPrefix", "PRIVATE_APP_SUBNET_PREFIX"),
        ("privateEndpointSubnetPrefix", "PRIVATE_ENDPOINT_SUBNET_PREFIX"),
    ):
        assert values[name]["value"] == "${" + variable + "=" + main[name]["default"] + "}", name


# --- off: nothing changes ---------------------------------------------------------------------------------------


def test_off_creates_no_network_resource():
    network = network_module()
    assert network["config"]["condition"] == "privateNetworking"
    assert network["detail"]["path"] == "modules/network.bicep"
    # The network module is the only template that declares network resources.
    for path in FILES:
        relative = str(path.relative_to(INFRA))
        types = {r["type"] for r in parsed(relative).get("resources", {}).values()}
        if relative != "modules/network.bicep":
            assert not {t for t in types if t.startswith("Microsoft.Network/")}, relative
    for module in ("storage", "cosmos", "keyVault"):
        assert "privateNetworking" in main_params(module), module
    for template in ("modules/storage.bicep", "modules/cosmos.bicep", "modules/keyvault.bicep"):
        assert parsed(template)["parameters"]["privateNetworking"]["default"] is False, template


def test_off_the_services_are_reachable_as_before_and_the_app_joins_no_network():
    storage = evaluated_module(
        "storage", "modules/storage.bicep", private=False, resource_type="Microsoft.Storage/storageAccounts"
    )
    assert storage["publicNetworkAccess"] == "Enabled"
    assert storage["networkAcls"] == {"defaultAction": "Allow", "bypass": "AzureServices"}
    cosmos = evaluated_module(
        "cosmos", "modules/cosmos.bicep", private=False, resource_type="Microsoft.DocumentDB/databaseAccounts"
    )
    assert cosmos["publicNetworkAccess"] == "Enabled"
    vault = evaluated_module(
        "keyVault", "modules/keyvault.bicep", private=False, resource_type="Microsoft.KeyVault/vaults"
    )
    assert vault["publicNetworkAccess"] == "Enabled"
    assert vault["networkAcls"] == {"defaultAction": "Allow", "bypass": "AzureServices"}
    # main.bicep passes no subnet, and the site then sends no virtualNetworkSubnetId at all (null).
    subnet = evaluate(main_params("functionApp")["virtualNetworkSubnetId"], {"privateNetworking": False})
    assert subnet == ""
    assert site_subnet() is None
    assert parsed("modules/functionapp.bicep")["parameters"]["virtualNetworkSubnetId"]["default"] == ""


# --- on: the network, the endpoints, the zones ------------------------------------------------------------------


def test_on_each_service_the_app_uses_has_a_private_endpoint_with_its_documented_group_and_zone():
    declared = endpoints()
    groups = [e["groupId"] for e in declared]
    assert len(groups) == len(set(groups))
    for e in declared:
        assert e["zone"] == DOCUMENTED_ZONES[e["groupId"]], e
    # Storage: the sub-resources the app's connections name (…__blobServiceUri, …__queueServiceUri), no other.
    app = (INFRA / "modules/functionapp.bicep").read_text()
    services = set(re.findall(r"__(blob|queue|table|file)ServiceUri:", app))
    assert services == {"blob", "queue"}
    assert {e["groupId"] for e in declared if e["target"] == "storageId"} == services
    assert {e["groupId"] for e in declared if e["target"] == "cosmosId"} == {"Sql"}
    assert {e["groupId"] for e in declared if e["target"] == "keyVaultId"} == {"vault"}
    # Each target is the id of the resource it names: main.bicep passes the module's output `id`, which is
    # that module's resource of the right type.
    params = main_params("network")
    for target, (module, template, type_) in TARGETS.items():
        assert evaluate(params[target], {}) == f"{module}.outputs.id", target
        key, _ = one(template, type_)
        assert evaluate(parsed(template)["outputs"]["id"]["value"], {}) == f"{key}.id", template


def _loop(resource_name: str) -> list[dict]:
    """A looped resource of network.bicep, evaluated once per endpoint (with its item and index)."""
    config = parsed("modules/network.bicep")["resources"][resource_name]["config"]
    assert config["loop_type"]["detail"]["array_name"] == "endpoints", resource_name
    detail = config["loop_type"]["detail"]
    env = environment("modules/network.bicep", vnetName="vnet-x")
    out = []
    for i, e in enumerate(endpoints()):
        scope = {**env, detail["item_name"]: e}
        if "index_name" in detail:
            scope[detail["index_name"]] = i
        out.append(evaluate(config["config"], scope))
    return out


def test_on_each_endpoint_has_its_zone_a_link_to_the_network_and_a_zone_group():
    declared = endpoints()
    zones = _loop("zones")
    assert [z["name"] for z in zones] == [e["zone"] for e in declared]
    assert all(z["location"] == "global" for z in zones)
    links = _loop("links")
    for i, link in enumerate(links):
        assert link["parent"] == f"zones[{i}]"
        assert link["properties"] == {"registrationEnabled": False, "virtualNetwork": {"id": "vnet.id"}}
    network = environment("modules/network.bicep")
    pes = _loop("privateEndpoints")
    for e, pe in zip(declared, pes, strict=True):
        (connection,) = pe["properties"]["privateLinkServiceConnections"]
        assert connection["properties"] == {"privateLinkServiceId": e["target"], "groupIds": [e["groupId"]]}
        # In the endpoints' subnet, not the app's delegated one.
        assert pe["properties"]["subnet"]["id"] == "${vnet.id}/subnets/${endpointSubnetName}"
        assert network["endpointSubnetName"] != network["appSubnetName"]
    groups = _loop("zoneGroups")
    for i, group in enumerate(groups):
        assert group["parent"] == f"privateEndpoints[{i}]"
        (config,) = group["properties"]["privateDnsZoneConfigs"]
        assert config["properties"]["privateDnsZoneId"] == f"zones[{i}].id"


def test_on_the_apps_subnet_is_delegated_to_microsoft_app_environments_and_the_addresses_fit():
    env = environment("modules/network.bicep")
    _, vnet = one("modules/network.bicep", "Microsoft.Network/virtualNetworks")
    subnets = {s["name"]: s["properties"] for s in evaluate(vnet["config"]["properties"]["subnets"], env)}
    app, endpoint = subnets[env["appSubnetName"]], subnets[env["endpointSubnetName"]]
    assert [d["properties"]["serviceName"] for d in app["delegations"]] == ["Microsoft.App/environments"]
    assert "delegations" not in endpoint and endpoint["privateEndpointNetworkPolicies"] == "Disabled"
    assert not any("_" in name for name in subnets)  # Flex Consumption refuses underscores in subnet names
    # The app gets the delegated subnet.
    output = parsed("modules/network.bicep")["outputs"]["appSubnetId"]["value"]
    assert output == "${vnet.id}/subnets/${appSubnetName}"
    # main.bicep's defaults: both subnets in the space, apart, the app's a /27 or larger, five endpoint
    # addresses at least (blob, queue, vault, and Cosmos DB's two) besides Azure's five reserved ones.
    main = parsed("main.bicep")["parameters"]
    params = main_params("network")
    values = {key: main[params[key]]["default"] for key in ("addressSpace", "appSubnetPrefix", "endpointSubnetPrefix")}
    space = ipaddress.IPv4Network(values["addressSpace"])
    app_net = ipaddress.IPv4Network(values["appSubnetPrefix"])
    endpoint_net = ipaddress.IPv4Network(values["endpointSubnetPrefix"])
    assert app_net.subnet_of(space) and endpoint_net.subnet_of(space) and not app_net.overlaps(endpoint_net)
    assert app_net.prefixlen <= 27
    assert endpoint_net.num_addresses - 5 >= len(endpoints()) + 1
    assert evaluate(vnet["config"]["properties"]["addressSpace"], env) == {"addressPrefixes": [env["addressSpace"]]}


def test_on_the_services_are_closed_to_the_internet_and_the_app_joins_the_network():
    cosmos = evaluated_module(
        "cosmos", "modules/cosmos.bicep", private=True, resource_type="Microsoft.DocumentDB/databaseAccounts"
    )
    assert cosmos["publicNetworkAccess"] == "Disabled"
    vault = evaluated_module(
        "keyVault", "modules/keyvault.bicep", private=True, resource_type="Microsoft.KeyVault/vaults"
    )
    assert vault["publicNetworkAccess"] == "Disabled"
    assert vault["networkAcls"]["defaultAction"] == "Deny"
    # Storage: the public endpoint admits no address and no network, only trusted Azure services acting with
    # their own identity (Event Grid's dead-lettering); the app uses the private endpoints.
    storage = evaluated_module(
        "storage", "modules/storage.bicep", private=True, resource_type="Microsoft.Storage/storageAccounts"
    )
    assert storage["networkAcls"] == {
        "defaultAction": "Deny",
        "bypass": "AzureServices",
        "ipRules": [],
        "virtualNetworkRules": [],
    }
    # The app: the network module's subnet, which exists only once the module (every endpoint, zone group
    # and link) is deployed.
    subnet = evaluate(main_params("functionApp")["virtualNetworkSubnetId"], {"privateNetworking": True})
    assert subnet == "network.outputs.appSubnetId"
    subnet_id = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/v/subnets/snet-app"
    assert site_subnet(virtualNetworkSubnetId=subnet_id) == subnet_id


@pytest.mark.parametrize("private", [False, True], ids=["off", "on"])
def test_key_vault_references_resolve_with_the_apps_identity_and_flex_consumption_routing(private):
    """Flex Consumption routes all outbound traffic through the integrated network (the Functions networking
    options: Route All isn't needed), Key Vault references included: nothing to set but the subnet, and the
    references keep using the user-assigned identity that holds Key Vault Secrets User."""
    site = body("modules/functionapp.bicep", "app")["properties"]
    assert site["keyVaultReferenceIdentity"] == "identityId"
    keys = json.dumps(site).lower()
    assert "vnetrouteallenabled" not in keys and "outboundvnetrouting" not in keys
    main = (INFRA / "main.bicep").read_text()
    assert "BILLING_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.webhookSecretUri})'" in main
    # The secrets are written by the deployment (control plane, which the vault's network rules leave alone),
    # and the vault keeps the trusted-services exception either way.
    vault = evaluated_module(
        "keyVault", "modules/keyvault.bicep", private=private, resource_type="Microsoft.KeyVault/vaults"
    )
    assert vault["networkAcls"]["bypass"] == "AzureServices"
    assert vault["publicNetworkAccess"] == ("Disabled" if private else "Enabled")
    assert resources_of("modules/keyvault.bicep", "Microsoft.KeyVault/vaults/secrets")


def test_the_readme_deploy_section_says_what_the_option_changes_costs_and_leaves_public():
    readme = (INFRA.parent / "README.md").read_text()
    deploy = readme[readme.index("## Deploy") : readme.index("## Operate")]
    assert "azd env set PRIVATE_NETWORKING true" in deploy
    assert "az provider register --namespace Microsoft.App" in deploy
    for e in endpoints():
        assert e["zone"] in deploy, e["zone"]
    assert "Microsoft.App/environments" in deploy
    for words in ("Communication Services", "no private endpoint", "vnetRouteAllEnabled", "keyVaultReferenceIdentity"):
        assert words in deploy, words
    assert "a private endpoint is about" in deploy and "per million queries" in deploy  # what it costs
    assert "outside the network" in deploy  # deploying and operating from a machine outside it
    for name in ("privateNetworkAddressSpace", "privateAppSubnetPrefix", "privateEndpointSubnetPrefix"):
        assert name in deploy, name
