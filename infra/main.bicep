// pastdue: everything the function app needs, identity-only (no keys, no connection strings).
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('Name of the environment (azd); used in resource names and tags.')
param environmentName string

// Regions with both the Flex Consumption plan and zone-redundant storage (Standard_ZRS, the runtime storage's
// replication), from `az functionapp list-flexconsumption-locations` and the regions with availability zones.
// azd offers only these when it asks for AZURE_LOCATION; a region added to both later can be added here.
@description('Location of every resource but the e-mail service (global): a region with Flex Consumption and zone-redundant storage.')
@metadata({ azd: { type: 'location' } })
@allowed([
  'australiaeast'
  'brazilsouth'
  'canadacentral'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southeastasia'
  'swedencentral'
  'switzerlandnorth'
  'uaenorth'
  'uksouth'
  'westeurope'
  'westus2'
  'westus3'
])
param location string = resourceGroup().location

@description('Cosmos DB capacity: serverless (pay per request) or provisioned (autoscale on the database). Chosen when the account is created; the one change Cosmos allows later is serverless to provisioned, in place and for good: then set provisionedFromServerless (each container keeps the throughput of its own the change gave it; README, Deploy).')
@allowed(['serverless', 'provisioned', 'provisionedFromServerless'])
param cosmosCapacityMode string = 'serverless'

@description('Autoscale maximum RU/s for the database when provisioned.')
param cosmosMaxThroughput int = 1000

@description('E-mail domain: an Azure-managed subdomain, or a custom domain you verify.')
@allowed(['AzureManaged', 'CustomerManaged'])
param emailDomainManagement string = 'AzureManaged'

@description('The custom e-mail domain when emailDomainManagement is CustomerManaged.')
param customEmailDomain string = ''

@description('Second step of a custom domain: true once its DNS records are verified; it is then linked and used.')
param customDomainVerified bool = false

@description('Where ACS keeps e-mail data.')
param emailDataLocation string = 'Europe'

@description('The portal\'s origin (https://host, no path) when it is a custom domain: where every notice links unless portalBaseUrl says otherwise, and the first origin CORS allows. Empty (the default): the origin of the Static Web App this deployment creates for the portal (https://<name>.azurestaticapps.net).')
param portalOrigin string = ''

@description('Region of the portal\'s Static Web App (a region that has them; the files are served worldwide from the edge).')
@allowed(['westus2', 'centralus', 'eastus2', 'westeurope', 'eastasia'])
param portalLocation string = contains(['westus2', 'centralus', 'eastus2', 'westeurope', 'eastasia'], location) ? location : 'westeurope'

@description('Other web origins CORS allows besides the portal\'s (never "*").')
param additionalAllowedOrigins array = []

@description('The Entra ID app registration (client id) of the portal, for App Service Authentication.')
param portalClientId string

@description('The shared secret(s) of the billing-system webhooks (comma-separated for rotation), each at least 16 characters (checked before anything is created; the app refuses shorter ones).')
@secure()
@minLength(16)
param billingWebhookSecret string

@description('The payment processor: sandbox (test tokens only) or stripe.')
@allowed(['sandbox', 'stripe'])
param paymentGateway string = 'sandbox'

@description('Stripe secret key (sk_live_... or a restricted rk_live_...) when paymentGateway is stripe (checked before anything is created).')
@secure()
param stripeSecretKey string = ''

@description('Stripe webhook endpoint signing secret(s) (whsec_...), comma-separated for rotation (each part checked before anything is created).')
@secure()
param stripeWebhookSecret string = ''

@description('Stripe publishable key (pk_live_...), handed to the front end by the setup route.')
param stripePublishableKey string = ''

@description('The portal the notices link to (its pages per action: PORTAL_LINK_* app settings); empty (the default): the deployed portal, the portal\'s origin + /portal.')
param portalBaseUrl string = ''

@description('Client ids whose tokens for the API App Service Authentication accepts besides the portal\'s: the Azure CLI (04b07795-...), with which support runs python -m pastdue.support_cli after az login. Pre-authorize it on the API\'s scope (README, Operate).')
param supportClientIds array = ['04b07795-8ddb-461a-bbee-02f9e1bf7b46']

// The brand the notices carry, the sender display name, the support contact and the legal footer.
@description('The name customers know you by: it opens every notice subject and signs every notice. Required (azd env set BRAND_NAME ...).')
@minLength(1)
param brandName string
param brandLogoUrl string = ''
param senderDisplayName string = brandName
@description('Where customers\' replies to a notice go (its Reply-To; the sender stays DoNotReply@), and the support contact every notice names. Required: azd asks for SUPPORT_EMAIL.')
@minLength(3)
param supportEmail string
param supportUrl string = ''
param legalFooter string = ''
@description('The legal name invoice payers transfer to, as the bank account\'s holder is registered (banks check the payee against it); it is written beside the bank details and in the EPC QR code. Required: azd asks for PAYEE_NAME.')
@minLength(1)
param payeeName string
@description('The phone number invoice payers call to check bank details before paying any other account (the bank-details warning names it); without one it names the support site or address.')
param supportPhone string = ''

@description('Who is e-mailed when an alert fires (the app down, the sweep did not run, notices failing, accounts quarantined, unexpected payments, 5xx, throttling, held deletions, the budget): one address or several, comma-separated. Required: azd asks for ALERT_EMAIL.')
@minLength(3)
param alertEmail string

@description('Also e-mail every alert to the subscription\'s Owners (an Azure Resource Manager role receiver): someone hears it even if the ALERT_EMAIL mailbox is not read.')
param alertSubscriptionOwners bool = true

@description('Monthly cost budget of the resource group, in the billing account\'s currency; 0: no budget. Its alerts (80% spent, 100% forecast) go where the other alerts go.')
@minValue(0)
param monthlyBudget int = 0

@description('First day of the budget\'s month (kept to the current month on each deployment).')
param budgetStartDate string = utcNow('yyyy-MM-01')

@description('Log Analytics daily ingestion cap in GB (what Application Insights writes counts); -1: no cap. At the cap, ingestion stops until the next day: the alerts go blind, so keep it well above a normal day.')
param logsDailyCapGb int = 5

@description('Share of traces (requests, dependencies) the app sends, 0 to 1. 1 on purpose: the alerts count requests and the app\'s log lines, and a sampled trace takes its log lines with it; the daily cap bounds the cost instead.')
param telemetrySamplingRatio string = '1.0'

@description('When the Key Vault secrets expire (yyyy-mm-dd, UTC). The same date on every deployment keeps an unchanged secret one version (no new version, no app restart); set a later date and provision before it comes. Required: azd asks for SECRETS_EXPIRE_ON.')
@minLength(10)
@maxLength(10)
param secretsExpireOn string

@description('When the deployment runs (only to check that secretsExpireOn is later).')
param deployedAt string = utcNow()

@description('How long the audit history and settled charges are kept, in days (7 years by default); Cosmos TTL removes them after.')
@minValue(400)
param historyRetentionDays int = 2557

@description('Deletion safety valve: how many subscriptions one sweep may start deleting; the rest wait for the next runs.')
@minValue(1)
param sweepMaxDeletions int = 100

@description('Shards a sweep run is cut into: one queue message each, swept side by side by as many instances as Flex Consumption starts.')
@minValue(1)
@maxValue(64)
param sweepShards int = 8

@description('Record what the sweep would delete without deleting anything.')
param sweepDeletionDryRun bool = false

@description('NCRONTAB schedule of daily_sweep (UTC).')
param sweepSchedule string = '0 0 2 * * *'

@description('E-mails per minute the app sends at most; 0 = the limit of the sender domain kind (5 for an Azure-managed domain, 30 for a custom one).')
param emailQuotaPerMinute int = 0

@description('E-mails per hour the app sends at most; 0 = the limit of the sender domain kind (10 Azure-managed, 100 custom).')
param emailQuotaPerHour int = 0

@description('Appended to the Key Vault name (up to 5 letters or digits): a redeploy within 90 days of deleting an environment meets the soft-deleted vault (purge protection) unless the name changes.')
@maxLength(5)
param keyVaultNameSuffix string = ''

@description('Subscribe email_events to ACS delivery reports; needs the code deployed once (azd deploy) first.')
param subscribeDeliveryReports bool = false

@description('Private networking: a virtual network the function app sends all its outbound traffic through (Flex Consumption VNet integration), private endpoints with private DNS zones for Cosmos DB, blob and queue storage and Key Vault, and those services closed to the internet (Cosmos DB and Key Vault public access Disabled; storage denies every client but trusted Azure services). Key Vault references then resolve through the network. Communication Services, Application Insights and the API itself stay public. Costs and deploying from outside the network: README, Deploy.')
param privateNetworking bool = false

@description('Address space of the virtual network when privateNetworking is on. Pick one that does not overlap a network you will peer it with, and subnets inside it.')
param privateNetworkAddressSpace string = '10.40.0.0/24'

@description('The function app\'s integration subnet (a /27 or larger, in privateNetworkAddressSpace).')
param privateAppSubnetPrefix string = '10.40.0.0/25'

@description('The private endpoints\' subnet (in privateNetworkAddressSpace; five addresses at least).')
param privateEndpointSubnetPrefix string = '10.40.0.128/26'

// ACS sending limits by domain kind (service limits); a support request raises a custom domain's.
var senderDomainKind = emailDomainManagement == 'CustomerManaged' && customDomainVerified ? 'CustomerManaged' : 'AzureManaged'
var quotaDefaults = {
  AzureManaged: { perMinute: 5, perHour: 10 }
  CustomerManaged: { perMinute: 30, perHour: 100 }
}
var quotaPerMinute = emailQuotaPerMinute > 0 ? emailQuotaPerMinute : quotaDefaults[senderDomainKind].perMinute
var quotaPerHour = emailQuotaPerHour > 0 ? emailQuotaPerHour : quotaDefaults[senderDomainKind].perHour

// The portal's origin: PORTAL_ORIGIN (a custom domain) or else the deployed Static Web App's own hostname. CORS
// allows it first, and the notices link to its /portal/ pages.
var portalOriginInUse = empty(portalOrigin) ? 'https://${portal.outputs.defaultHostname}' : portalOrigin
var noticesPortalUrl = empty(portalBaseUrl) ? '${portalOriginInUse}/portal' : portalBaseUrl
var allowedOrigins = union([portalOriginInUse], additionalAllowedOrigins)
var alertEmails = [for address in split(alertEmail, ','): trim(address)]

// The rules checks.bicep holds to true, each worked out from the parameters alone (so ARM can check them when
// it validates the deployment, before anything is created).
var billingWebhookSecretLengths = [for part in split(billingWebhookSecret, ','): length(trim(part))]
var stripeWebhookSecretsWellFormed = [for part in split(stripeWebhookSecret, ','): startsWith(trim(part), 'whsec_')]
var alertEmailsWellFormed = [for address in alertEmails: contains(address, '@') && !contains(address, ' ')]

module checks 'modules/checks.bicep' = {
  name: 'checks'
  params: {
    // Empty: the deployed portal's own https:// hostname is used. Given: https, no path, never local.
    portalOriginIsHttpsAndPublic: empty(portalOrigin) || (length(portalOrigin) >= 9 && startsWith(portalOrigin, 'https://') && !contains(substring(portalOrigin, min(8, length(portalOrigin))), '/') && !contains(toLower(portalOrigin), 'localhost') && !contains(portalOrigin, '127.0.0.1'))
    everyBillingWebhookSecretIsAtLeast16Characters: min(billingWebhookSecretLengths) >= 16
    stripeSettingsAreWellFormed: paymentGateway != 'stripe' || ((startsWith(stripeSecretKey, 'sk_') || startsWith(stripeSecretKey, 'rk_')) && !contains(stripeWebhookSecretsWellFormed, false))
    alertEmailIsAnAddress: !contains(alertEmailsWellFormed, false)
    supportEmailIsOneAddress: contains(supportEmail, '@') && !contains(supportEmail, ' ') && !contains(supportEmail, ',')
    secretsExpireInTheFuture: dateTimeToEpoch('${secretsExpireOn}T00:00:00Z') > dateTimeToEpoch(deployedAt)
  }
}

// Stripe's keys reach the app only as Key Vault references, like the billing webhook secret.
var stripeSettings = paymentGateway == 'stripe' ? {
  STRIPE_SECRET_KEY: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.stripeSecretKeyUri})'
  STRIPE_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.stripeWebhookSecretUri})'
  STRIPE_PUBLISHABLE_KEY: stripePublishableKey
} : {}

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = { 'azd-env-name': environmentName, application: 'pastdue' }
var names = {
  identity: 'id-pastdue-${token}'
  storage: 'stpastdue${take(token, 13)}'
  cosmos: 'cosmos-pastdue-${token}'
  plan: 'plan-pastdue-${token}'
  functionApp: 'func-pastdue-${token}'
  keyVault: 'kv-pastdue-${take(token, 8)}${keyVaultNameSuffix}'
  logs: 'log-pastdue-${token}'
  insights: 'appi-pastdue-${token}'
  communication: 'acs-pastdue-${token}'
  emailService: 'ecs-pastdue-${token}'
  vnet: 'vnet-pastdue-${token}'
  portal: 'stapp-pastdue-${token}'
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  dependsOn: [checks]
  params: { name: names.identity, location: location, tags: tags }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  dependsOn: [checks]
  params: {
    logsName: names.logs
    insightsName: names.insights
    location: location
    tags: tags
    dailyCapGb: logsDailyCapGb
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    insightsName: monitoring.outputs.insightsName
    logsName: monitoring.outputs.logsName
    location: location
    tags: tags
    alertEmails: alertEmails
    notifyOwners: alertSubscriptionOwners
    healthUrl: 'https://${functionApp.outputs.defaultHostName}/api/health'
    monthlyBudget: monthlyBudget
    budgetStartDate: budgetStartDate
  }
}

module portal 'modules/portal.bicep' = {
  name: 'portal'
  dependsOn: [checks]
  params: { name: names.portal, location: portalLocation, tags: tags }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  dependsOn: [checks]
  params: { name: names.storage, location: location, tags: tags, privateNetworking: privateNetworking }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  dependsOn: [checks]
  params: {
    name: names.cosmos
    location: location
    tags: tags
    capacityMode: cosmosCapacityMode
    maxThroughput: cosmosMaxThroughput
    privateNetworking: privateNetworking
  }
}

module email 'modules/communication.bicep' = {
  name: 'communication'
  dependsOn: [checks]
  params: {
    communicationName: names.communication
    emailServiceName: names.emailService
    dataLocation: emailDataLocation
    domainManagement: emailDomainManagement
    customDomain: customEmailDomain
    customDomainVerified: customDomainVerified
    senderDisplayName: senderDisplayName
    tags: tags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  dependsOn: [checks]
  params: {
    name: names.keyVault
    location: location
    tags: tags
    webhookSecret: billingWebhookSecret
    stripeSecretKey: paymentGateway == 'stripe' ? stripeSecretKey : ''
    stripeWebhookSecret: paymentGateway == 'stripe' ? stripeWebhookSecret : ''
    expiresOn: secretsExpireOn
    privateNetworking: privateNetworking
  }
}

module network 'modules/network.bicep' = if (privateNetworking) {
  name: 'network'
  dependsOn: [checks]
  params: {
    vnetName: names.vnet
    location: location
    tags: tags
    addressSpace: privateNetworkAddressSpace
    appSubnetPrefix: privateAppSubnetPrefix
    endpointSubnetPrefix: privateEndpointSubnetPrefix
    storageId: storage.outputs.id
    cosmosId: cosmos.outputs.id
    keyVaultId: keyVault.outputs.id
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  // The app starts only once its identity may read the Key Vault secret (and the rest): a start before
  // the role assignment would see the unresolved reference (refused by the app, 503 on signed routes).
  dependsOn: [rbac]
  params: {
    planName: names.plan
    appName: names.functionApp
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    deploymentContainer: storage.outputs.deploymentContainer
    insightsConnectionString: monitoring.outputs.connectionString
    allowedOrigins: allowedOrigins
    portalClientId: portalClientId
    supportClientIds: supportClientIds
    // From the network module's outputs: the app is created once every private endpoint and DNS record exists.
    virtualNetworkSubnetId: privateNetworking ? network.outputs.appSubnetId : ''
    appSettings: union(stripeSettings, {
      PAYMENT_GATEWAY: paymentGateway
      PORTAL_BASE_URL: noticesPortalUrl
      BRAND_NAME: brandName
      BRAND_LOGO_URL: brandLogoUrl
      EMAIL_SENDER_NAME: senderDisplayName
      SUPPORT_EMAIL: supportEmail
      SUPPORT_URL: supportUrl
      LEGAL_FOOTER: legalFooter
      PAYEE_NAME: payeeName
      SUPPORT_PHONE: supportPhone
      COSMOS_ENDPOINT: cosmos.outputs.endpoint
      COSMOS_DATABASE: cosmos.outputs.databaseName
      EMAIL_TRANSPORT: 'acs'
      ACS_ENDPOINT: email.outputs.endpoint
      EMAIL_SENDER: email.outputs.senderAddress
      BILLING_WEBHOOK_SECRET: '@Microsoft.KeyVault(SecretUri=${keyVault.outputs.webhookSecretUri})'
      PRINCIPAL_MODE: 'appservice'
      SWEEP_SCHEDULE: sweepSchedule
      SWEEP_MAX_DELETIONS: string(sweepMaxDeletions)
      SWEEP_SHARDS: string(sweepShards)
      SWEEP_QUEUE: storage.outputs.sweepQueueName
      SWEEP_DELETION_DRY_RUN: string(sweepDeletionDryRun)
      EMAIL_QUOTA_PER_MINUTE: string(quotaPerMinute)
      EMAIL_QUOTA_PER_HOUR: string(quotaPerHour)
      HISTORY_RETENTION_DAYS: string(historyRetentionDays)
      TELEMETRY_SAMPLING_RATIO: telemetrySamplingRatio
    })
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  params: {
    principalId: identity.outputs.principalId
    storageName: storage.outputs.name
    cosmosName: cosmos.outputs.name
    cosmosDatabaseName: cosmos.outputs.databaseName
    sweepQueueName: storage.outputs.sweepQueueName
    sweepPoisonQueueName: storage.outputs.sweepPoisonQueueName
    keyVaultName: keyVault.outputs.name
    insightsName: monitoring.outputs.insightsName
    communicationName: email.outputs.communicationName
  }
}

module deliveryReports 'modules/deliveryreports.bicep' = if (subscribeDeliveryReports) {
  name: 'deliveryreports'
  params: {
    communicationName: email.outputs.communicationName
    functionAppName: functionApp.outputs.name
    storageName: storage.outputs.name
    deadLetterContainer: storage.outputs.deadLetterContainer
    tags: tags
  }
}

output AZURE_LOCATION string = location
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output API_BASE_URL string = 'https://${functionApp.outputs.defaultHostName}/api'
output CHARGE_FAILED_WEBHOOK_URL string = 'https://${functionApp.outputs.defaultHostName}/api/webhooks/charge-failed'
output PAYMENT_RECEIVED_WEBHOOK_URL string = 'https://${functionApp.outputs.defaultHostName}/api/webhooks/payment-received'
output STRIPE_WEBHOOK_URL string = 'https://${functionApp.outputs.defaultHostName}/api/webhooks/stripe'
output EMAIL_SENDER string = email.outputs.senderAddress
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output KEY_VAULT_NAME string = keyVault.outputs.name
output EMAIL_QUOTA string = '${quotaPerMinute}/min, ${quotaPerHour}/h (${senderDomainKind} domain)'
output CUSTOM_DOMAIN_DNS_RECORDS object = email.outputs.customDomainDnsRecords
output DASHBOARD_WORKBOOK_ID string = alerts.outputs.workbookId
output PRIVATE_NETWORK_NAME string = privateNetworking ? network.outputs.vnetName : ''
// What scripts/portal_site.py writes into the deployed portal's config.json (none is a secret), and the SPA
// redirect URI the app registration needs (README, Deploy).
output AZURE_TENANT_ID string = tenant().tenantId
output PORTAL_AUTHORITY string = '${environment().authentication.loginEndpoint}${tenant().tenantId}'
output PORTAL_URL string = '${portalOriginInUse}/portal/'
output PORTAL_STATIC_SITE_NAME string = portal.outputs.name
