// ACS e-mail delivery reports (Event Grid) to the email_events function. What Event Grid cannot deliver
// within its retries (24 hours) goes to a blob container (dead-letter), written with the system topic's
// own identity, instead of being dropped: a bounce is never lost.
param communicationName string
param functionAppName string
param storageName string
param deadLetterContainer string
param tags object

resource communication 'Microsoft.Communication/communicationServices@2025-05-01' existing = {
  name: communicationName
}
resource app 'Microsoft.Web/sites@2024-04-01' existing = { name: functionAppName }
resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = { name: storageName }
resource deadLetters 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${storageName}/default/${deadLetterContainer}'
}

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: '${communicationName}-events'
  location: 'global'
  tags: tags
  identity: { type: 'SystemAssigned' }
  properties: { source: communication.id, topicType: 'Microsoft.Communication.CommunicationServices' }
}

var blobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe' // Storage Blob Data Contributor

// On the dead-letter container only: the topic can write there and read no other blob. (An environment
// deployed before kept an assignment of this role on the whole account: README, Operate, says how to remove it.)
resource topicWritesDeadLetters 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetters.id, topic.id, blobDataContributor)
  scope: deadLetters
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributor)
    principalId: topic.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource deliveryReports 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: 'email-delivery-reports'
  dependsOn: [topicWritesDeadLetters]
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: { resourceId: '${app.id}/functions/email_events', maxEventsPerBatch: 1 }
    }
    filter: { includedEventTypes: ['Microsoft.Communication.EmailDeliveryReportReceived'] }
    retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 }
    deadLetterWithResourceIdentity: {
      identity: { type: 'SystemAssigned' }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: { resourceId: storage.id, blobContainerName: deadLetterContainer }
      }
    }
  }
}
