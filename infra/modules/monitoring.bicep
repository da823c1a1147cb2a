// Application Insights on a Log Analytics workspace; local (key) auth off: telemetry via Entra ID.
param logsName string
param insightsName string
param location string
param tags object
@description('Daily ingestion cap in GB; -1: none.')
param dailyCapGb int = -1

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logsName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 90
    workspaceCapping: { dailyQuotaGb: dailyCapGb }
    features: { disableLocalAuth: true }
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: insightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true
  }
}

output insightsName string = insights.name
output logsName string = logs.name
output connectionString string = insights.properties.ConnectionString
