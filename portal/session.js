// Who is signed in. Locally (PRINCIPAL_MODE=unverified-local) the portal sends the principal header App
// Service Authentication would set, made from the user chosen on the sign-in screen; it lives in this tab's
// sessionStorage only. In Azure (config.json says signIn "entra") MSAL Browser, served from the portal's own
// origin, signs the user in with Microsoft Entra ID (redirect flow) and gets the token the API's App Service
// Authentication checks; the user shown is read from the ID token's claims.

const KEY = "pastdue.principal";
const OBJECT_ID = "http://schemas.microsoft.com/identity/claims/objectidentifier";

export function currentUser() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

export function signIn(user) {
  sessionStorage.setItem(KEY, JSON.stringify(user));
}

/** Forgets the user in this tab; `everywhere` (the Sign out button) also ends the Entra ID session. */
export function signOut({ everywhere = false } = {}) {
  sessionStorage.removeItem(KEY);
  if (everywhere && msalApp) {
    const account = msalApp.getActiveAccount();
    msalApp.logoutRedirect({ account, postLogoutRedirectUri: portalUrl() });
  }
}

// --- Microsoft Entra ID (MSAL Browser) ----------------------------------------------------------------
const MSAL_SCRIPT = "/portal/vendor/msal-browser.min.js"; // vendored at package time (scripts/portal_site.py)
let msalApp = null;
let scopes = [];

function portalUrl() {
  return new URL("/portal/", location.origin).href;
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

function userFrom(account) {
  const claims = account.idTokenClaims || {};
  return {
    objectId: claims.oid || account.localAccountId,
    name: claims.name || account.name || account.username,
    roles: Array.isArray(claims.roles) ? claims.roles : [],
  };
}

/** Before the first screen: with signIn "entra", load MSAL, finish a sign-in the browser is coming back from
 * (then back to the page it started on) and keep the signed-in user; otherwise nothing. */
export async function startSession(config) {
  if (config.signIn !== "entra") return;
  await loadScript(MSAL_SCRIPT);
  scopes = [config.scope];
  msalApp = new window.msal.PublicClientApplication({
    auth: {
      clientId: config.clientId,
      authority: config.authority,
      knownAuthorities: config.knownAuthorities || [],
      redirectUri: portalUrl(),
      postLogoutRedirectUri: portalUrl(),
    },
    cache: { cacheLocation: "sessionStorage" },
  });
  await msalApp.initialize();
  const result = await msalApp.handleRedirectPromise({ navigateToLoginRequestUrl: false });
  const account = result?.account || msalApp.getActiveAccount() || msalApp.getAllAccounts()[0];
  if (!account) {
    sessionStorage.removeItem(KEY);
    return;
  }
  msalApp.setActiveAccount(account);
  signIn(userFrom(account));
  const back = result?.state;
  if (back && back.startsWith("/portal/") && !back.startsWith("/portal/signin")) history.replaceState({}, "", back);
}

/** The Entra ID sign-in page, coming back to `returnTo` (a /portal/ path) once signed in. */
export function signInWithEntra(returnTo) {
  return msalApp.loginRedirect({ scopes, state: returnTo || "/portal/" });
}

/** The access token for the API (Entra ID only): from MSAL's cache or silently renewed; when Entra ID needs
 * the user again, off to its sign-in page (the call never returns then). Null when nobody is signed in. */
export async function accessToken() {
  if (!msalApp) return null;
  const account = msalApp.getActiveAccount();
  if (!account) return null;
  try {
    return (await msalApp.acquireTokenSilent({ scopes, account })).accessToken;
  } catch (error) {
    if (!(error instanceof window.msal.InteractionRequiredAuthError)) throw error;
    await msalApp.acquireTokenRedirect({ scopes, account, state: location.pathname });
    return new Promise(() => {});
  }
}

export function isSupport(user) {
  return Boolean(user && user.roles && user.roles.includes("Billing.Support"));
}

/** The X-MS-CLIENT-PRINCIPAL value for a user: base64 of the JSON App Service Authentication sends. */
export function principalHeader(user) {
  const claims = [
    { typ: OBJECT_ID, val: user.objectId },
    { typ: "name", val: user.name },
    ...(user.roles || []).map((role) => ({ typ: "roles", val: role })),
  ];
  const doc = { auth_typ: "aad", claims, name_typ: "name", role_typ: "roles" };
  const bytes = new TextEncoder().encode(JSON.stringify(doc));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}
