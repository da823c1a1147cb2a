// Key Vault (RBAC mode) holding the billing-system webhook secret; the app reads it through a
// Key Vault reference in its app settings.
param name string
param location string
param tags object
@secure()
param webhookSecret string
@description('When the deployment runs; the secret expires a year later and is rotated by deploying again.')
param now string = utcNow()

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109: Key Vault references from an app without VNet integration need network access; RBAC guards the secret.
  // checkov:skip=CKV_AZURE_189: same reason as CKV_AZURE_109.
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    // Key Vault references from a Flex Consumption app without VNet integration need network access.
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'billing-webhook-secret'
  properties: {
    value: webhookSecret
    contentType: 'text/plain'
    attributes: { enabled: true, exp: dateTimeToEpoch(dateTimeAdd(now, 'P1Y')) }
  }
}

output name string = vault.name
output webhookSecretUri string = secret.properties.secretUri
