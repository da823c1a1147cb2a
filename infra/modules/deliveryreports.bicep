// ACS e-mail delivery reports (Event Grid) to the email_events function.
param communicationName string
param functionAppName string
param tags object

resource communication 'Microsoft.Communication/communicationServices@2025-05-01' existing = {
  name: communicationName
}
resource app 'Microsoft.Web/sites@2024-04-01' existing = { name: functionAppName }

resource topic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: '${communicationName}-events'
  location: 'global'
  tags: tags
  properties: { source: communication.id, topicType: 'Microsoft.Communication.CommunicationServices' }
}

resource deliveryReports 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: topic
  name: 'email-delivery-reports'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: { resourceId: '${app.id}/functions/email_events', maxEventsPerBatch: 1 }
    }
    filter: { includedEventTypes: ['Microsoft.Communication.EmailDeliveryReportReceived'] }
    retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 }
  }
}
