// Key Vault (RBAC mode) holding the billing-system webhook secret; the app reads it through a
// Key Vault reference in its app settings.
param name string
param location string
param tags object
@secure()
param webhookSecret string
@description('Stripe secret key (sk_live_/rk_live_...), when the app charges through Stripe.')
@secure()
param stripeSecretKey string = ''
@description('Stripe webhook endpoint secret(s) (whsec_...), comma-separated for rotation.')
@secure()
param stripeWebhookSecret string = ''
@description('When the secrets expire (yyyy-mm-dd, UTC): a fixed date, so that a deployment that changes no value writes no new version (a new version would change the versioned references, hence the app settings, and restart the app).')
param expiresOn string
@description('Private networking (main.bicep): the vault answers on its private endpoint only; the app resolves its Key Vault references through its virtual network integration.')
param privateNetworking bool = false

var expiry = dateTimeToEpoch('${expiresOn}T00:00:00Z')
var publicAccess = privateNetworking ? 'Disabled' : 'Enabled'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  // checkov:skip=CKV_AZURE_109: by default (privateNetworking off) Key Vault references from an app without VNet integration need network access; RBAC guards the secret. With privateNetworking the default action is Deny.
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
    // Key Vault references from an app without VNet integration need network access; with it they resolve
    // through the app's network, and the secrets below are control-plane writes, which network rules spare.
    // A string, not the bare conditional, which checkov's Key Vault network check cannot read as text.
    publicNetworkAccess: '${publicAccess}'
    networkAcls: { defaultAction: privateNetworking ? 'Deny' : 'Allow', bypass: 'AzureServices' }
  }
}

resource secret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'billing-webhook-secret'
  properties: {
    value: webhookSecret
    contentType: 'text/plain'
    attributes: { enabled: true, exp: expiry }
  }
}

var useStripe = !empty(stripeSecretKey)
// items() orders by key: [0] is the secret key, [1] the webhook secret.
var stripeSecrets = useStripe ? {
  'stripe-secret-key': stripeSecretKey
  'stripe-webhook-secret': stripeWebhookSecret
} : {}

resource stripe 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [for item in items(stripeSecrets): {
  parent: vault
  name: item.key
  properties: {
    value: item.value
    contentType: 'text/plain'
    attributes: { enabled: true, exp: expiry }
  }
}]

// Versioned URIs: App Service caches a reference without a version for up to 24 hours, while a new value
// (a new version) changes these, hence the app setting, and the app restarts on it within minutes.
output name string = vault.name
output id string = vault.id
output webhookSecretUri string = secret.properties.secretUriWithVersion
output stripeSecretKeyUri string = useStripe ? stripe[0].properties.secretUriWithVersion : ''
output stripeWebhookSecretUri string = useStripe ? stripe[1].properties.secretUriWithVersion : ''

