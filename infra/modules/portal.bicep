// The reference portal in Azure: a Static Web App holding portal/ (the static ES modules), MSAL Browser vendored
// from npm under /portal/vendor/ and a config.json written from the deployment's outputs (scripts/portal_site.py,
// run by azd before the portal service is packaged). No build in Azure, no repository link: azd uploads the folder
// with the site's deployment token. Its hostname is the portal origin the API allows unless PORTAL_ORIGIN names a
// custom domain.
param name string
@description('A region that hosts Static Web Apps (the files are served from the global edge whatever it is).')
@allowed(['westus2', 'centralus', 'eastus2', 'westeurope', 'eastasia'])
param location string
param tags object

resource site 'Microsoft.Web/staticSites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'portal' })
  sku: { name: 'Free', tier: 'Free' }
  properties: {
    // Deployed from a folder by azd, not built from a repository; no preview environments of pull requests.
    stagingEnvironmentPolicy: 'Disabled'
    allowConfigFileUpdates: true
    publicNetworkAccess: 'Enabled'
  }
}

output name string = site.name
output defaultHostname string = site.properties.defaultHostname
