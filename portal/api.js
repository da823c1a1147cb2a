// Calls to the pastdue API. Every refusal comes back as an ApiError holding the problem document
// (RFC 9457); problemSentence() turns it into words for a person, never raw JSON.

import { accessToken, currentUser, principalHeader } from "./session.js";
import { t, money } from "./i18n.js";

let apiBase = "/api";
let signInMode = "local";

export function configure(config) {
  apiBase = config.apiBase || "/api";
  signInMode = config.signIn || "local";
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
  get slug() {
    return String(this.problem.type || "").split("/").pop();
  }
}

export async function call(method, path, { body, headers = {} } = {}) {
  const user = currentUser();
  const sent = { Accept: "application/json", ...headers };
  if (signInMode === "local" && user) sent["X-MS-CLIENT-PRINCIPAL"] = principalHeader(user);
  if (method !== "GET") sent["Content-Type"] = "application/json";
  let answer;
  try {
    // In Azure: the Entra ID token App Service Authentication checks (a missing one is the API's 401).
    const token = signInMode === "entra" ? await accessToken() : null;
    if (token) sent.Authorization = `Bearer ${token}`;
    answer = await fetch(apiBase + path, {
      method,
      headers: sent,
      body: method === "GET" ? undefined : JSON.stringify(body || {}),
      credentials: "same-origin",
    });
  } catch {
    throw new ApiError(0, { type: "network", title: "Network", detail: "" });
  }
  const text = await answer.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!answer.ok) {
    throw new ApiError(answer.status, parsed && typeof parsed === "object" ? parsed : { detail: "" });
  }
  return parsed;
}

const FIELD_NAMES = { email: "fieldEmail", reason: "fieldReason", until: "fieldUntil", days: "fieldDays" };

/** A problem document as one sentence in the user's language. */
export function problemSentence(error) {
  if (!(error instanceof ApiError)) return t("problem.unknown");
  const p = error.problem;
  if (error.status === 0) return t("problem.network");
  switch (error.slug) {
    case "card-declined": {
      const reason = t(`decline.${p.declineCode}`, null);
      return t("problem.declined", { reason: reason || t("decline.other") });
    }
    case "authentication-required":
      return t("problem.authentication");
    case "balance-outstanding":
      return t("problem.outstanding", { amount: p.amountDue ? money(p.amountDue) : "" });
    case "subscription-gone":
      return t("problem.gone");
    case "not-found":
    case "unknown-subscription":
      return t("problem.notFound");
    case "forbidden":
      return t("problem.forbidden");
    case "bad-request": {
      const field = String(p.field || "").split(".").pop();
      return t("problem.badField", { field: t(FIELD_NAMES[field] || "fieldOther") });
    }
    case "idempotency-mismatch":
      return t("problem.mismatch");
    case "outcome-unknown":
      return t("problem.outcomeUnknown");
    default:
      if (error.status === 401) return t("problem.signIn");
      if (error.status >= 500) return t("problem.server");
      // A refusal the portal has no words of its own for: the API's own sentence (English), never its JSON.
      return p.detail ? t("problem.refused", { detail: p.detail }) : t("problem.unknown");
  }
}
