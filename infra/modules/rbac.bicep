// Every role the app's identity holds, each on the narrowest scope; names from guid() so a redeploy
// finds the same assignment.
param principalId string
param storageName string
param cosmosName string
param cosmosDatabaseName string
param sweepQueueName string
param sweepPoisonQueueName string
param keyVaultName string
param insightsName string
param communicationName string

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}
// Cosmos DB Built-in Data Contributor (data plane).
var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = { name: storageName }
resource sweepQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  name: '${storageName}/default/${sweepQueueName}'
}
resource sweepPoisonQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  name: '${storageName}/default/${sweepPoisonQueueName}'
}
resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = { name: cosmosName }
resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = { name: keyVaultName }
resource insights 'Microsoft.Insights/components@2020-02-02' existing = { name: insightsName }
resource communication 'Microsoft.Communication/communicationServices@2025-05-01' existing = {
  name: communicationName
}

// The host keeps its timer state and locks in blobs, and Flex Consumption deploys from a blob
// container.
resource storageBlobs 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, roles.storageBlobDataOwner)
  scope: storage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
  }
}

// The sweep's shard queue and its poison queue, and no other: the planner sends, the queue trigger reads and
// deletes, and the host moves a message that failed every try to the poison queue.
resource sweepQueueData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(sweepQueue.id, principalId, roles.storageQueueDataContributor)
  scope: sweepQueue
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions',
      roles.storageQueueDataContributor)
  }
}

resource sweepPoisonQueueData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(sweepPoisonQueue.id, principalId, roles.storageQueueDataContributor)
  scope: sweepPoisonQueue
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions',
      roles.storageQueueDataContributor)
  }
}

resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
}

resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, principalId, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions',
      roles.monitoringMetricsPublisher)
  }
}

// On the app's database only (not the account): its containers' items and queries.
resource cosmosData 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmos
  name: guid(cosmos.id, cosmosDatabaseName, principalId, cosmosDataContributor)
  properties: {
    principalId: principalId
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosDataContributor}'
    scope: '${cosmos.id}/dbs/${cosmosDatabaseName}'
  }
}

// No built-in role only sends e-mail: this custom role holds just what the Email send API checks when the
// caller signs in with Entra ID (ACS documents these three actions for sending e-mail): reading the
// Communication Services resource, and the two write actions the send operation is authorized against.
// What it allows beyond sending: CommunicationServices/Write also lets the identity change this one resource
// through ARM (its linked domains, for instance), which the send check makes unavoidable; nothing else in
// the subscription, as the role is assignable in this resource group only and assigned on this resource.
resource emailSenderRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(communication.id, 'pastdue-email-sender')
  properties: {
    roleName: 'pastdue e-mail sender (${communicationName})'
    description: 'Send e-mail through one Communication Services resource.'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.Communication/CommunicationServices/Read'
          'Microsoft.Communication/CommunicationServices/Write'
          'Microsoft.Communication/EmailServices/write'
        ]
      }
    ]
    assignableScopes: [resourceGroup().id]
  }
}

resource emailSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(communication.id, principalId, emailSenderRole.id)
  scope: communication
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: emailSenderRole.id
  }
}
