// What operators are told and what they look at: an action group (e-mail, and the subscription's Owners),
// an availability test of /api/health with its alert, log alert rules on Application Insights, a budget,
// and a workbook of the app's custom metrics (names in pastdue/adapters/telemetry.py METRICS).
param insightsName string
@description('The Log Analytics workspace Application Insights keeps its data in.')
param logsName string
param location string
param tags object
@description('Who is told when an alert fires: at least one address (main.bicep requires ALERT_EMAIL).')
@minLength(1)
param alertEmails array
@description('Also tell the subscription\'s Owners (an Azure Resource Manager role receiver).')
param notifyOwners bool = true
@description('The URL the availability test calls: the app\'s GET /api/health.')
param healthUrl string
@description('Monthly budget of the resource group; 0: none.')
param monthlyBudget int = 0
param budgetStartDate string

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: insightsName
}
resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logsName
}

var ownerRole = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635' // Owner

resource team 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${insightsName}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'pastdue'
    enabled: true
    emailReceivers: [for (address, i) in alertEmails: {
      name: 'operators-${i}'
      emailAddress: address
      useCommonAlertSchema: true
    }]
    // Owners assigned on the subscription itself (not through a group or a narrower scope) are e-mailed.
    armRoleReceivers: notifyOwners ? [
      { name: 'subscription-owners', roleId: ownerRole, useCommonAlertSchema: true }
    ] : []
  }
}

// Liveness from outside, every 5 minutes from five regions: GET /api/health must answer 200 (it reads no
// database and answers 503 when the app's settings are refused). It runs whatever the app logs, so a dead
// app (no logs at all) is still noticed, and its results also tell the "no sweep" rule below how long this
// environment has existed.
resource availability 'Microsoft.Insights/webtests@2022-06-15' = {
  name: '${insightsName}-health'
  location: location
  // The link to Application Insights (this tag) is what puts the test and its results there.
  tags: union(tags, { 'hidden-link:${insights.id}': 'Resource' })
  kind: 'standard'
  properties: {
    SyntheticMonitorId: '${insightsName}-health'
    Name: 'pastdue: GET /api/health'
    Enabled: true
    Kind: 'standard'
    Frequency: 300
    Timeout: 30
    RetryEnabled: true
    Locations: [
      { Id: 'emea-nl-ams-azr' }
      { Id: 'emea-gb-db3-azr' }
      { Id: 'us-va-ash-azr' }
      { Id: 'us-ca-sjc-azr' }
      { Id: 'apac-sg-sin-azr' }
    ]
    Request: { RequestUrl: healthUrl, HttpVerb: 'GET', ParseDependentRequests: false }
    ValidationRules: { ExpectedHttpStatusCode: 200, SSLCheck: true, SSLCertRemainingLifetimeCheck: 7 }
  }
}

resource unavailable 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${insightsName}-health-unavailable'
  location: 'global'
  tags: tags
  properties: {
    description: 'GET /api/health failed from at least 2 of 5 test locations within 5 minutes: the app is down, not deployed, or refuses its settings (the log says which).'
    severity: 0
    enabled: true
    scopes: [availability.id, insights.id]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.WebtestLocationAvailabilityCriteria'
      webTestId: availability.id
      componentId: insights.id
      failedLocationCount: 2
    }
    autoMitigate: true
    actions: [{ actionGroupId: team.id }]
  }
}

// name, severity, what it means, how often it is looked at and over what window, the query (rows = fire).
var rules = [
  {
    name: 'sweep-missing-or-failed'
    severity: 1
    description: 'No sweep run finished in the last 26 hours (the app silent included), the planner failed, or a shard went to the poison queue: retries, disables and deletions are not happening for some accounts.'
    frequency: 'PT1H'
    window: 'P2D'
    // "No sweep" once this environment is over 26 hours old (a new one is quiet until its first night), its age
    // read from the availability test results, which come every 5 minutes whether the app answers or not: an
    // app gone silent still counts, so the rule keeps firing instead of resolving on silence (see the README).
    // A shard that failed on every try: the app says so on its last try, the host when it moves the message.
    query: 'let running = toscalar(union availabilityResults, traces | where timestamp > ago(2d) | summarize min(timestamp)) < ago(26h); let finished = traces | where timestamp > ago(26h) | where message startswith "daily_sweep summary" | count; let failed = exceptions | where timestamp > ago(26h) | where operation_Name == "daily_sweep" | count; let poisoned = traces | where timestamp > ago(26h) | where message has "to the poison queue" or message has "MaxDequeueCount" | count; union (finished | where Count == 0 and running | project problem = "no sweep in 26 h"), (failed | where Count > 0 | project problem = "sweep failed"), (poisoned | where Count > 0 | project problem = "sweep shard poisoned")'
  }
  {
    name: 'notices-failing'
    severity: 2
    description: 'Notices fail to send (pastdue_notices_failed): customers are not told.'
    frequency: 'PT15M'
    window: 'PT1H'
    query: 'customMetrics | where name == "pastdue_notices_failed" | summarize failures = sum(valueSum) | where failures >= 5'
  }
  {
    name: 'accounts-quarantined'
    severity: 2
    description: 'An account was quarantined (pastdue_accounts_quarantined): it needs repair; see the log for its id.'
    frequency: 'PT15M'
    window: 'PT1H'
    query: 'customMetrics | where name == "pastdue_accounts_quarantined" | summarize quarantined = sum(valueSum) | where quarantined > 0'
  }
  {
    name: 'payments-unexpected'
    severity: 2
    description: 'Money was taken after a decline or an error had been recorded (pastdue_unexpected_success), the processor refused a charge request as invalid (pastdue_gateway_refused), a collected payment was refunded or disputed (pastdue_payments_reversed), money was taken for a charge already settled (pastdue_unexpected_payment, kept as credit), or a Stripe customer is linked to several accounts (pastdue_stripe_customer_shared, its invoice events refused): applied, retried or re-opened, but look at why.'
    frequency: 'PT15M'
    window: 'PT1H'
    query: 'customMetrics | where name in ("pastdue_unexpected_success", "pastdue_gateway_refused", "pastdue_payments_reversed", "pastdue_unexpected_payment", "pastdue_stripe_customer_shared") | summarize events = sum(valueSum) | where events > 0'
  }
  {
    name: 'server-errors'
    severity: 1
    description: 'More than 1% of API calls answered 5xx in 15 minutes.'
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'requests | summarize total = count(), failed = countif(toint(resultCode) >= 500) | where total >= 20 and 100.0 * failed / total > 1'
  }
  {
    name: 'email-throttled'
    severity: 3
    description: 'The e-mail quota or the service throttles sends for an hour (pastdue_notices_throttled): notices are late; raise the quota.'
    frequency: 'PT30M'
    window: 'PT1H'
    query: 'customMetrics | where name == "pastdue_notices_throttled" | summarize throttled = sum(valueSum) | where throttled >= 50'
  }
  {
    name: 'secret-unresolved'
    severity: 1
    description: 'A Key Vault reference did not resolve (BILLING_WEBHOOK_SECRET, STRIPE_SECRET_KEY or STRIPE_WEBHOOK_SECRET), or a Stripe setting is malformed: the routes that need it answer 503 and no payment is sent. Check the app identity\'s Key Vault Secrets User role, the secret and its expiry date, or the Stripe value.'
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'traces | where message has "unresolved Key Vault reference" or message has "malformed Stripe setting"'
  }
  {
    name: 'deletions-held'
    severity: 2
    description: 'A sweep reached SWEEP_MAX_DELETIONS and held deletions back: confirm they are expected.'
    frequency: 'PT1H'
    window: 'P1D'
    query: 'traces | where message startswith "sweep deletion cap reached"'
  }
]

// Each rule queries as its own system-assigned identity (Reader on Application Insights and on the Log
// Analytics workspace its data lives in, below), never as the person who last edited it: a rule does not stop
// because someone left or lost access.
resource alerts 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in rules: {
    name: '${insightsName}-${rule.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    identity: { type: 'SystemAssigned' }
    properties: {
      displayName: 'pastdue: ${rule.name}'
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [insights.id]
      evaluationFrequency: rule.frequency
      windowSize: rule.window
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
          }
        ]
      }
      autoMitigate: true
      actions: { actionGroups: [team.id] }
    }
  }
]

var readerRole = 'acdd72a7-3385-48ef-bd42-f606fba81ae7' // Reader

resource alertReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (rule, i) in rules: {
    name: guid(insights.id, '${insightsName}-${rule.name}', readerRole)
    scope: insights
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', readerRole)
      principalId: alerts[i].identity.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// The workspace holds the data: a workspace in resource-context access mode would do with Reader on
// Application Insights alone, one in workspace-context mode (a setting someone may change) needs this too.
resource alertLogReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (rule, i) in rules: {
    name: guid(logs.id, '${insightsName}-${rule.name}', readerRole)
    scope: logs
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', readerRole)
      principalId: alerts[i].identity.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// What the resource group costs, told where the alerts go: at 80% of the month's budget spent, and when the
// month is forecast to pass it.
var budgetNotice = {
  enabled: true
  operator: 'GreaterThanOrEqualTo'
  contactEmails: alertEmails
  contactRoles: notifyOwners ? ['Owner'] : []
  contactGroups: [team.id]
}

resource budget 'Microsoft.Consumption/budgets@2021-10-01' = if (monthlyBudget > 0) {
  name: 'budget-${insightsName}'
  properties: {
    category: 'Cost'
    amount: monthlyBudget
    timeGrain: 'Monthly'
    timePeriod: { startDate: budgetStartDate }
    notifications: {
      actual80: union(budgetNotice, { threshold: 80, thresholdType: 'Actual' })
      forecast100: union(budgetNotice, { threshold: 100, thresholdType: 'Forecasted' })
    }
  }
}

resource dashboard 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, insightsName, 'pastdue-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'pastdue: recovery, revenue at risk, accounts by state'
    category: 'workbook'
    sourceId: insights.id
    // The workbook opens on this Application Insights (its fallback resource) wherever it is opened from.
    serializedData: replace(loadTextContent('workbook.json'), '"fallbackResourceIds": []', '"fallbackResourceIds": ["${insights.id}"]')
  }
}

output actionGroupId string = team.id
output availabilityTestId string = availability.id
output workbookId string = dashboard.id
