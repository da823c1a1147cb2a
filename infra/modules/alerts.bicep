// What operators are told and what they look at: an action group (e-mail), log alert rules on Application
// Insights, and a workbook of the app's custom metrics (names in pastdue/adapters/telemetry.py METRICS).
param insightsName string
param location string
param tags object
@description('Who is told when an alert fires; no e-mail receiver when empty (the alerts still show in the portal).')
param alertEmail string

resource insights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: insightsName
}

resource team 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${insightsName}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'pastdue'
    enabled: true
    emailReceivers: empty(alertEmail) ? [] : [
      { name: 'operators', emailAddress: alertEmail, useCommonAlertSchema: true }
    ]
  }
}

// name, severity, what it means, how often it is looked at and over what window, the query (rows = fire).
var rules = [
  {
    name: 'sweep-missing-or-failed'
    severity: 1
    description: 'No sweep run finished in the last 26 hours, the planner failed, or a shard went to the poison queue: retries, disables and deletions are not happening for some accounts.'
    frequency: 'PT1H'
    window: 'P2D'
    // "No sweep" only once the app has been running for more than 26 hours: a new environment is quiet until its first night.
    // A shard that failed on every try: the app says so on its last try, the host when it moves the message.
    query: 'let running = toscalar(traces | where timestamp > ago(2d) | summarize min(timestamp)) < ago(26h); let finished = traces | where timestamp > ago(26h) | where message startswith "daily_sweep summary" | count; let failed = exceptions | where timestamp > ago(26h) | where operation_Name == "daily_sweep" | count; let poisoned = traces | where timestamp > ago(26h) | where message has "to the poison queue" or message has "MaxDequeueCount" | count; union (finished | where Count == 0 and running | project problem = "no sweep in 26 h"), (failed | where Count > 0 | project problem = "sweep failed"), (poisoned | where Count > 0 | project problem = "sweep shard poisoned")'
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
    description: 'A Key Vault reference did not resolve (BILLING_WEBHOOK_SECRET, STRIPE_SECRET_KEY or STRIPE_WEBHOOK_SECRET): the routes that need it answer 503 and no payment is sent. Check the app identity\'s Key Vault Secrets User role and the secret.'
    frequency: 'PT5M'
    window: 'PT15M'
    query: 'traces | where message has "unresolved Key Vault reference"'
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

// Each rule queries as its own system-assigned identity (Reader on Application Insights, below), never as
// the person who last edited it: a rule does not stop because someone left or lost access.
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
output workbookId string = dashboard.id
