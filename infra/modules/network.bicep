// Private networking (main.bicep's privateNetworking): a virtual network with two subnets, the function app's
// outbound integration and the private endpoints, and one private endpoint per data service the app reads
// or writes (blob and queue storage, Cosmos DB, Key Vault), each with its private DNS zone linked to the
// network and a zone group that writes the endpoint's A record. Deployed only when privateNetworking is on.
param vnetName string
param location string
param tags object
@description('Address space of the virtual network.')
param addressSpace string
@description('The app\'s integration subnet, in addressSpace: a /27 or larger.')
param appSubnetPrefix string
@description('The private endpoints\' subnet, in addressSpace: five addresses at least (Cosmos DB\'s endpoint takes two).')
param endpointSubnetPrefix string
param storageId string
param cosmosId string
param keyVaultId string

// Flex Consumption: the integration subnet is delegated to Microsoft.App/environments (not Microsoft.Web/serverFarms
// as on Premium and Dedicated plans), holds nothing else, and has no underscore in its name. A /27 is what the
// Functions documentation recommends for one app.
var appSubnetName = 'snet-app'
var endpointSubnetName = 'snet-private-endpoints'

// One private endpoint per target sub-resource: its group id and the private DNS zone its name resolves through
// (public cloud names; the regions main.bicep allows are all public cloud). The app uses blob (host, deployment
// package) and queue (the sweep's shards) storage, no table or file storage.
var endpoints = [
  { name: 'blob', target: storageId, groupId: 'blob', zone: 'privatelink.blob.core.windows.net' }
  { name: 'queue', target: storageId, groupId: 'queue', zone: 'privatelink.queue.core.windows.net' }
  { name: 'cosmos', target: cosmosId, groupId: 'Sql', zone: 'privatelink.documents.azure.com' }
  { name: 'vault', target: keyVaultId, groupId: 'vault', zone: 'privatelink.vaultcore.azure.net' }
]

// No inbound rule is needed on either subnet: integration carries the app's outbound traffic only, and the
// private endpoints are reached from inside the network. The default rules apply.
resource appNsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-${vnetName}-app'
  location: location
  tags: tags
  properties: { securityRules: [] }
}

resource endpointNsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: 'nsg-${vnetName}-pe'
  location: location
  tags: tags
  properties: { securityRules: [] }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: vnetName
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: [addressSpace] }
    subnets: [
      {
        name: appSubnetName
        properties: {
          addressPrefix: appSubnetPrefix
          networkSecurityGroup: { id: appNsg.id }
          delegations: [{ name: 'flex-consumption', properties: { serviceName: 'Microsoft.App/environments' } }]
        }
      }
      {
        name: endpointSubnetName
        properties: {
          addressPrefix: endpointSubnetPrefix
          networkSecurityGroup: { id: endpointNsg.id }
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2020-06-01' = [
  for e in endpoints: {
    name: e.zone
    location: 'global'
    tags: tags
  }
]

// The app resolves through the network's DNS (Azure-provided), which answers from the zones linked here.
resource links 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [
  for (e, i) in endpoints: {
    parent: zones[i]
    name: vnetName
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: { id: vnet.id }
    }
  }
]

resource privateEndpoints 'Microsoft.Network/privateEndpoints@2024-05-01' = [
  for e in endpoints: {
    name: 'pe-${vnetName}-${e.name}'
    location: location
    tags: tags
    properties: {
      subnet: { id: '${vnet.id}/subnets/${endpointSubnetName}' }
      privateLinkServiceConnections: [
        {
          name: e.name
          properties: { privateLinkServiceId: e.target, groupIds: [e.groupId] }
        }
      ]
    }
  }
]

resource zoneGroups 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = [
  for (e, i) in endpoints: {
    parent: privateEndpoints[i]
    name: 'default'
    properties: {
      privateDnsZoneConfigs: [{ name: e.name, properties: { privateDnsZoneId: zones[i].id } }]
    }
  }
]

// A module's outputs exist once all of its resources are deployed: the function app, which takes the subnet
// from here, joins the network only after every endpoint has its DNS record and every zone its link, so Key
// Vault references and the host's storage resolve to the private addresses from the first start.
output appSubnetId string = '${vnet.id}/subnets/${appSubnetName}'
output vnetName string = vnet.name
