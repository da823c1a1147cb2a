// The runtime's storage (AzureWebJobsStorage), the Flex Consumption deployment container, and the
// sweep's shard queue with its poison queue.
// Shared key access is off: the app's identity reaches it through RBAC only.
param name string
param location string
param tags object
@description('The queue the sweep\'s shard messages go on (the app setting SWEEP_QUEUE).')
param sweepQueueName string = 'sweep-shards'
@description('Private networking (main.bicep): the app reaches blobs and queues through private endpoints, and the public endpoint turns away every client but trusted Azure services acting with their own identity (Event Grid writing dead-lettered delivery reports).')
param privateNetworking bool = false

var deploymentContainerName = 'app-package'
var privateAcls = { defaultAction: 'Deny', bypass: 'AzureServices', ipRules: [], virtualNetworkRules: [] }

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_35: by default (privateNetworking off) Flex Consumption without VNet integration reaches its storage over the public endpoint; access is RBAC-only (shared keys off). With privateNetworking the default action is Deny.
  // checkov:skip=CKV_AZURE_59: same reason as CKV_AZURE_35; blob public access is off.
  // checkov:skip=CKV_AZURE_206: zone-redundant (ZRS) is the replication chosen for runtime storage.
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_ZRS' }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Private: no IP or network rule lets a client in; the private endpoints (network.bicep) carry the app's
    // traffic. The trusted-services exception is a rule of the public endpoint's firewall, so that endpoint stays
    // on, denying everyone else: Event Grid writes dead-lettered delivery reports through it with its identity.
    publicNetworkAccess: 'Enabled'
    networkAcls: privateNetworking ? privateAcls : { defaultAction: 'Allow', bypass: 'AzureServices' }
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: { deleteRetentionPolicy: { enabled: true, days: 7 } }
}

resource deployment 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: deploymentContainerName
  properties: { publicAccess: 'None' }
}

// Delivery reports Event Grid could not hand to the app within its retries (not dropped after 24 hours).
resource deadLetters 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: 'deliveryreports-deadletter'
  properties: { publicAccess: 'None' }
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// One message per shard of a sweep run (services/sweep.py); the Functions host moves a message that failed
// maxDequeueCount times (host.json) to the poison queue, which the alerts watch.
resource sweepQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queues
  name: sweepQueueName
}

resource sweepPoisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queues
  name: '${sweepQueueName}-poison'
}

output name string = storage.name
output id string = storage.id
output queueEndpoint string = storage.properties.primaryEndpoints.queue
output sweepQueueName string = sweepQueue.name
output sweepPoisonQueueName string = sweepPoisonQueue.name
output deadLetterContainer string = deadLetters.name
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output deploymentContainer string = '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
