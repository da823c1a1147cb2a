// Azure Communication Services with an Email Communication Service and its domains.
// The Azure-managed domain is always there and linked, so e-mail works from the first deployment.
// A custom domain takes two deployments, because only a verified domain can be linked:
//   1. emailDomainManagement=CustomerManaged (customDomainVerified=false): the domain is created and its
//      DNS records are in the output CUSTOM_DOMAIN_DNS_RECORDS; add them at your DNS host and verify
//      them (portal, or `az communication email domain initiate-verification`);
//   2. deploy again with customDomainVerified=true: the custom domain is linked and becomes the sender.
param communicationName string
param emailServiceName string
param dataLocation string
@allowed(['AzureManaged', 'CustomerManaged'])
param domainManagement string
param customDomain string
@description('Second step of a custom domain: its DNS records are verified, so it can be linked.')
param customDomainVerified bool = false
@description('The display name of the DoNotReply sender (what the recipient sees beside the address).')
param senderDisplayName string = 'pastdue'
param tags object

var useCustom = domainManagement == 'CustomerManaged'
var linkCustom = useCustom && customDomainVerified

resource emailService 'Microsoft.Communication/emailServices@2023-04-01' = {
  name: emailServiceName
  location: 'global'
  tags: tags
  properties: { dataLocation: dataLocation }
}

resource managedDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: { domainManagement: 'AzureManaged', userEngagementTracking: 'Disabled' }
}

resource managedSender 'Microsoft.Communication/emailServices/domains/senderUsernames@2023-04-01' = {
  parent: managedDomain
  name: 'donotreply'
  properties: { username: 'DoNotReply', displayName: senderDisplayName }
}

resource customEmailDomain 'Microsoft.Communication/emailServices/domains@2023-04-01' = if (useCustom) {
  parent: emailService
  name: useCustom ? customDomain : 'unused'
  location: 'global'
  tags: tags
  properties: { domainManagement: 'CustomerManaged', userEngagementTracking: 'Disabled' }
}

resource customSender 'Microsoft.Communication/emailServices/domains/senderUsernames@2023-04-01' = if (useCustom) {
  parent: customEmailDomain
  name: 'donotreply'
  properties: { username: 'DoNotReply', displayName: senderDisplayName }
}

// disableLocalAuth exists from API version 2025-05-01 on: with an older version it is silently dropped
// and the access keys keep working.
resource communication 'Microsoft.Communication/communicationServices@2025-05-01' = {
  name: communicationName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    linkedDomains: linkCustom ? [managedDomain.id, customEmailDomain.id] : [managedDomain.id]
    disableLocalAuth: true
  }
}

output communicationName string = communication.name
output endpoint string = 'https://${communication.properties.hostName}'
var senderDomain = linkCustom ? customEmailDomain.properties.mailFromSenderDomain : managedDomain.properties.mailFromSenderDomain
output senderAddress string = 'DoNotReply@${senderDomain}'
@description('The kind of domain the sender uses now: AzureManaged until a custom domain is verified and linked.')
output senderDomainKind string = linkCustom ? 'CustomerManaged' : 'AzureManaged'
@description('DNS records to add for the custom domain (step 1), empty otherwise.')
output customDomainDnsRecords object = useCustom ? customEmailDomain.properties.verificationRecords : {}
