// Rules on the parameters that a decorator cannot say (a part of a comma-separated secret, a prefix, an
// address). main.bicep works out each as a bool and passes it here, where only true is allowed: ARM checks a
// module's parameters when it validates the deployment, so a broken rule stops `azd up` (or `az deployment
// group create`) with the rule's name before any resource is created. Every other module depends on this one.
@description('PORTAL_ORIGIN is https://, has no path, and is not localhost: every notice links there.')
@allowed([true])
param portalOriginIsHttpsAndPublic bool

@description('Each comma-separated part of BILLING_WEBHOOK_SECRET has at least 16 characters (the app refuses shorter ones).')
@allowed([true])
param everyBillingWebhookSecretIsAtLeast16Characters bool

@description('With PAYMENT_GATEWAY=stripe: STRIPE_SECRET_KEY is sk_... or rk_..., each part of STRIPE_WEBHOOK_SECRET is whsec_...')
@allowed([true])
param stripeSettingsAreWellFormed bool

@description('ALERT_EMAIL holds one or more e-mail addresses, comma-separated.')
@allowed([true])
param alertEmailIsAnAddress bool

@description('SUPPORT_EMAIL is one e-mail address: the Reply-To of every notice.')
@allowed([true])
param supportEmailIsOneAddress bool

@description('SECRETS_EXPIRE_ON (yyyy-mm-dd) is later than today: a secret past its expiry date stops resolving.')
@allowed([true])
param secretsExpireInTheFuture bool

output checked bool = portalOriginIsHttpsAndPublic && everyBillingWebhookSecretIsAtLeast16Characters && stripeSettingsAreWellFormed && alertEmailIsAnAddress && supportEmailIsOneAddress && secretsExpireInTheFuture
