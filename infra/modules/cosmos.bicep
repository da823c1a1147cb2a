// Cosmos DB for NoSQL: local (key) auth off; the database and containers the code expects,
// indexed only where the code queries (the sweep's nextActionAt, the drain's noticesDueAt, ...).
param name string
param location string
param tags object
// serverless: pay per request. provisioned: created so, autoscale throughput shared by the database.
// provisionedFromServerless: a serverless account changed in place (portal: Change capacity mode, or
// `az cosmosdb update --capacity-mode Provisioned`), which cannot be undone: the account has no serverless
// capability any more, and its database no shared throughput (one can only be given at creation), while
// each container got throughput of its own, which this template leaves as it is.
@allowed(['serverless', 'provisioned', 'provisionedFromServerless'])
param capacityMode string
param maxThroughput int
@description('Private networking (main.bicep): the account answers on its private endpoint only.')
param privateNetworking bool = false

var databaseName = 'pastdue'
var containers = [
  {
    name: 'accounts'
    partitionKey: '/accountId'
    // type, seq and subscriptionIds: GET history pages the archived chunks of one account by seq;
    // states, nextDisableAt and nextDeletionAt: support's account lists.
    included: ['/nextActionAt/?', '/sweepSlot/?', '/noticesDueAt/?', '/admin/email/?', '/admin/principalId/?', '/gatewayCustomerId/?', '/type/?', '/seq/?', '/subscriptionIds/[]/?', '/states/[]/?', '/nextDisableAt/?', '/nextDeletionAt/?']
    // TTL on, with no default: only items that carry a ttl (archived records, after the retention) expire.
    ttl: true
    // A shard of the sweep asks for its slots' due accounts: equality on the slot, a range on the time.
    composite: [[{ path: '/sweepSlot', order: 'ascending' }, { path: '/nextActionAt', order: 'ascending' }]]
  }
  { name: 'customerData', partitionKey: '/subscriptionId', included: ['/subscriptionId/?'], ttl: false }
  { name: 'gatewayLedger', partitionKey: '/id', included: [], ttl: false }
  // The e-mail quota, and the sweep runs (which expire after a month).
  { name: 'control', partitionKey: '/id', included: [], ttl: true }
]

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  // checkov:skip=CKV_AZURE_101: by default (privateNetworking off) the app has no VNet integration; access is Entra ID only (local auth off). With privateNetworking public access is Disabled.
  // checkov:skip=CKV_AZURE_99: same reason as CKV_AZURE_101.
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
    consistencyPolicy: { defaultConsistencyLevel: 'Session' }
    locations: [{ locationName: location, failoverPriority: 0, isZoneRedundant: false }]
    capabilities: capacityMode == 'serverless' ? [{ name: 'EnableServerless' }] : []
    backupPolicy: { type: 'Continuous', continuousModeProperties: { tier: 'Continuous7Days' } }
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: { id: databaseName }
    options: capacityMode == 'provisioned' ? { autoscaleSettings: { maxThroughput: maxThroughput } } : {}
  }
}

resource stores 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [
  for c in containers: {
    parent: database
    name: c.name
    properties: {
      resource: union({
        id: c.name
        partitionKey: { paths: [c.partitionKey], kind: 'Hash' }
        indexingPolicy: {
          indexingMode: 'consistent'
          automatic: true
          // Only what the code filters on is indexed; the rest (details, outbox) never is.
          includedPaths: [for p in c.included: { path: p }]
          excludedPaths: [{ path: '/*' }, { path: '/"_etag"/?' }]
          compositeIndexes: c.?composite ?? []
        }
      }, c.ttl ? { defaultTtl: -1 } : {})
    }
  }
]

output name string = account.name
output id string = account.id
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
