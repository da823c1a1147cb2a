// Who is signed in. Locally (PRINCIPAL_MODE=unverified-local) the portal sends the principal header App
// Service Authentication would set, made from the user chosen on the sign-in screen; it lives in this tab's
// sessionStorage only. In Azure, App Service Authentication signs the user in and sets the header itself.

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

export function signOut() {
  sessionStorage.removeItem(KEY);
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
