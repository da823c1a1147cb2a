// The function app on Flex Consumption (Python 3.11), running as the user-assigned identity:
// identity-based AzureWebJobsStorage and deployment container, App Service Authentication for the portal.
// Flex Consumption rejects some classic site properties (ftpsState, alwaysOn, linuxFxVersion...): none is
// set here (tests/infra lists them); FTP is off through the publishing-credentials policies below.
param planName string
param appName string
param location string
param tags object
param identityId string
param identityClientId string
param storageBlobEndpoint string
param storageQueueEndpoint string
param deploymentContainer string
param insightsConnectionString string
param allowedOrigins array
param portalClientId string
@description('Other clients whose tokens for the API are accepted: the support CLI\'s (Azure CLI) client id.')
param supportClientIds array = []
@description('The settings the app reads (pastdue/settings.py).')
param appSettings object
@description('The subnet (delegated to Microsoft.App/environments) the app\'s outbound traffic goes through; empty: none.')
param virtualNetworkSubnetId string = ''

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: Flex Consumption plans scale per instance; zone redundancy is a plan option not used by default.
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

var runtimeSettings = {
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
  // The sweep_shard trigger's connection (identity-based): the queue service and the app's identity.
  SweepQueue__queueServiceUri: storageQueueEndpoint
  SweepQueue__credential: 'managedidentity'
  SweepQueue__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: insightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  AZURE_CLIENT_ID: identityClientId
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_78: Flex Consumption has no FTP(S) and rejects ftpsState; basic publishing credentials (ftp, scm) are off below.
  // checkov:skip=CKV_AZURE_17: callers prove who they are with signed webhooks and App Service Authentication, not client certificates.
  // checkov:skip=CKV_AZURE_212: Flex Consumption scales from zero; always-ready instances are a cost choice left off.
  // checkov:skip=CKV_AZURE_213: Flex Consumption has no App Service health check; GET /api/health serves monitors.
  // checkov:skip=CKV_AZURE_222: the API is public by design (billing-system webhooks and the web front end).
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    keyVaultReferenceIdentity: identityId
    // Flex Consumption sends all outbound traffic into the integrated network (no vnetRouteAllEnabled or
    // outboundVnetRouting to set), Key Vault reference resolution included. Null when empty: not sent.
    virtualNetworkSubnetId: empty(virtualNetworkSubnetId) ? null : virtualNetworkSubnetId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainer
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
      runtime: { name: 'python', version: '3.11' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      cors: { allowedOrigins: allowedOrigins, supportCredentials: true }
      appSettings: [for setting in items(union(runtimeSettings, appSettings)): {
        name: setting.key
        value: setting.value
      }]
    }
  }
}

// No publishing with basic (user/password) credentials: deploys use Entra ID.
resource ftp 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'ftp'
  properties: { allow: false }
}

resource scm 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: app
  name: 'scm'
  properties: { allow: false }
}

// App Service Authentication: validates portal sign-ins and sets X-MS-CLIENT-PRINCIPAL (stripping any
// the client sent). Anonymous requests still reach the code: webhooks carry signatures instead, and
// portal routes answer 401 without a principal.
resource auth 'Microsoft.Web/sites/config@2024-04-01' = {
  // checkov:skip=CKV_AZURE_13: this resource is the authentication settings themselves, not a web app.
  // checkov:skip=CKV_AZURE_63: not a web app (authentication settings); the site logs to Application Insights.
  // checkov:skip=CKV_AZURE_65: not a web app (authentication settings).
  // checkov:skip=CKV_AZURE_66: not a web app (authentication settings).
  // checkov:skip=CKV_AZURE_80: not a web app (authentication settings); the app runs Python.
  // checkov:skip=CKV_AZURE_88: not a web app (authentication settings); Flex Consumption uses blob deployment.
  // checkov:skip=CKV_AZURE_222: not a web app (authentication settings).
  parent: app
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: { requireAuthentication: false, unauthenticatedClientAction: 'AllowAnonymous' }
    httpSettings: { requireHttps: true }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: portalClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${subscription().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: ['api://${portalClientId}', portalClientId]
          // Only tokens issued to the portal's own app registration, not to any app of the tenant.
          // and to the clients support signs in with (the Azure CLI, for python -m pastdue.support_cli).
          defaultAuthorizationPolicy: { allowedApplications: union([portalClientId], supportClientIds) }
        }
      }
    }
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
