// The support console (role Billing.Support): find accounts, open one, and act on it. Every action asks for
// the reason the API keeps in the account's history with the support principal.

import { ApiError, call, problemSentence } from "./api.js";
import { date, dateTime, money, t } from "./i18n.js";
import { renderAccount } from "./account.js";
import { h, link, refused, say } from "./dom.js";

export async function supportScreen() {
  document.title = `${t("support.title")} · ${t("brand")}`;
  const area = h("div");
  const results = h("div", { id: "results" });
  const email = h("input", { id: "search-email", name: "email", type: "email", autocomplete: "off" });
  const state = h(
    "select",
    { id: "search-state", name: "state" },
    h("option", { value: "" }, t("support.any")),
    ["pastDue", "disabled", "active", "deleted"].map((s) => h("option", { value: s }, t(`subs.state.${s}`))),
  );
  const search = async (event) => {
    if (event) event.preventDefault();
    const params = new URLSearchParams({ limit: "50" });
    if (email.value.trim()) params.set("email", email.value.trim());
    if (state.value) params.set("state", state.value);
    say(area, "");
    try {
      const page = await call("GET", `/support/accounts?${params}`);
      results.replaceChildren(
        page.accounts.length
          ? h(
              "ul",
              { class: "plain stack" },
              page.accounts.map((a) =>
                h(
                  "li",
                  { class: "card" },
                  link(`support/${encodeURIComponent(a.accountId)}`, t("support.open", { id: a.accountId })),
                  ` · ${a.adminEmail} · ${money(a.balance)} · `,
                  a.states.map((s) => t(`subs.state.${s}`)).join(", "),
                  a.dunningPausedUntil ? ` · ${t("support.paused", { date: date(a.dunningPausedUntil) })}` : "",
                ),
              ),
            )
          : h("p", {}, t("support.none")),
      );
    } catch (error) {
      refused(error, area);
    }
  };
  document.getElementById("main").replaceChildren(
    h(
      "section",
      {},
      h("h1", {}, t("support.title")),
      h(
        "form",
        { class: "row", onsubmit: search, role: "search" },
        h("label", { for: "search-email" }, t("support.search")),
        email,
        h("label", { for: "search-state" }, t("support.state")),
        state,
        h("button", { type: "submit" }, t("support.find")),
      ),
      area,
      results,
    ),
  );
}

function reasonField(id, name = "reason") {
  return [
    h("label", { for: id }, t("support.reason")),
    h("input", { id, name, required: true, maxlength: 500, autocomplete: "off" }),
  ];
}

export async function supportAccountScreen(accountId) {
  document.title = `${t("account.title", { id: accountId })} · ${t("support.title")}`;
  const area = h("div");
  const section = h(
    "section",
    { class: "account" },
    link("support", t("nav.support"), { class: "back" }),
    h("h1", {}, t("account.title", { id: accountId })),
    area,
  );
  document.getElementById("main").replaceChildren(section);
  let account;
  try {
    account = await call("GET", `/accounts/${encodeURIComponent(accountId)}`);
  } catch (error) {
    return refused(error, area);
  }
  // What the last action did (the sentence, and the history record it wrote) stays above the actions,
  // which are drawn again from the account each action answers.
  const outcome = h(
    "section",
    { id: "support-outcome", "aria-labelledby": "outcome-title", class: "card", tabindex: "-1", hidden: true },
    h("h2", { id: "outcome-title" }, t("console.outcome")),
    h("div", { id: "support-result" }),
    h("div", { id: "audit-record" }),
  );
  const actions = h("div", { class: "view-actions" });
  const redraw = (fresh) => {
    section.querySelectorAll(".view").forEach((el) => el.remove());
    renderAccount(section, fresh, { supportView: true });
    section.append(outcome, actions);
    actions.replaceChildren(supportActions(fresh, redraw, outcome));
  };
  redraw(account);
}

/** The newest record's number in the account's history (0 if it cannot be read): an action's own record
 * is then the first of its kind after it. */
async function newestSeq(accountId) {
  try {
    const page = await call("GET", `/accounts/${encodeURIComponent(accountId)}/history?limit=1`);
    return page.entries.length ? page.entries[0].seq : 0;
  } catch {
    return 0;
  }
}

/** The record of one of `kinds` the action wrote: the newest such one after `seq`, or null if it wrote none. */
async function recordAfter(accountId, seq, kinds) {
  let cursor = null;
  for (let pages = 0; pages < 5; pages += 1) {
    const params = new URLSearchParams({ limit: "50" });
    if (cursor) params.set("cursor", cursor);
    const page = await call("GET", `/accounts/${encodeURIComponent(accountId)}/history?${params}`);
    for (const entry of page.entries) {
      if (entry.seq <= seq) return null;
      if (kinds.includes(entry.kind)) return entry;
    }
    cursor = page.next;
    if (!cursor) return null;
  }
  return null;
}

function auditRecord(entry) {
  const reason = entry.detail && entry.detail.reason;
  return h(
    "figure",
    { class: "audit", "data-seq": entry.seq },
    h("figcaption", {}, t("console.record")),
    h(
      "dl",
      { class: "pairs" },
      h("dt", {}, t("console.what")),
      h("dd", { class: "audit-kind" }, h("code", {}, entry.kind)),
      h("dt", {}, t("console.who")),
      h("dd", { class: "audit-actor" }, entry.actor),
      h("dt", {}, t("console.why")),
      h("dd", { class: "audit-reason" }, reason || t("console.noReason")),
      h("dt", {}, t("console.when")),
      h("dd", { class: "audit-at" }, h("time", { datetime: entry.at }, dateTime(entry.at))),
    ),
  );
}

/** A refusal of one of the console's actions as a sentence: the action's own words where the API's answer
 * means something particular for it, else the portal's (never the problem's JSON). */
function consoleSentence(error, action) {
  if (error instanceof ApiError) {
    const field = String(error.problem.field || "");
    if (error.slug === "bad-request" && field === "reason") return t("console.problem.reason");
    if (action === "resend" && error.slug === "conflict") return t("console.problem.notFailed");
    if (action === "resend" && error.slug === "not-found") return t("console.problem.noNotice");
    if (action === "transfer" && error.slug === "bad-request") {
      const words = { principalId: "console.problem.objectId", email: "console.problem.email", name: "console.problem.name" };
      if (words[field]) return t(words[field]);
    }
  }
  return problemSentence(error);
}

function supportActions(account, redraw, outcome) {
  const id = encodeURIComponent(account.accountId);
  const base = `/support/accounts/${id}`;
  /* One action: the form's body sent to path; then the account drawn again, the outcome said, and the
     history record the action wrote read back and shown (kinds: the records it may write). */
  const act = (action, path, body, kinds) => async (event) => {
    event.preventDefault();
    const form = event.target;
    const button = form.querySelector("button[type=submit]");
    // A refusal is said beside the form it answers (announced at once: role=alert).
    let area = form.querySelector(".form-error");
    if (!area) form.append((area = h("div", { class: "form-error" })));
    button.disabled = true;
    say(area, "");
    const before = await newestSeq(account.accountId);
    let fresh;
    try {
      fresh = await call("POST", path, { body: body(new FormData(form)) });
    } catch (error) {
      button.disabled = false;
      if (error instanceof ApiError && error.status === 401) return refused(error, area);
      const message = consoleSentence(error, action);
      say(area, message);
      const input = form.querySelector("input[name=reason]");
      if (input && error instanceof ApiError && error.problem.field === "reason") input.focus();
      return;
    }
    redraw(fresh && fresh.accountId ? fresh : await call("GET", `/accounts/${id}`));
    const result = document.getElementById("support-result");
    const record = document.getElementById("audit-record");
    outcome.hidden = false;
    record.replaceChildren();
    let entry = null;
    try {
      entry = await recordAfter(account.accountId, before, kinds);
    } catch (error) {
      refused(error, record);
    }
    if (entry) {
      say(result, t("support.done"), "ok");
      record.replaceChildren(auditRecord(entry));
    } else {
      say(result, action === "resume" ? t("console.notPaused") : t("console.noRecord"), "info");
    }
    outcome.focus();
  };
  const tomorrow = new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 10);
  const owedSubs = account.subscriptions.filter((s) => s.state === "pastDue");
  const notices = h("div", { id: "notices-list" }, h("p", {}, t("loading")));
  loadNotices(account, notices, act, base);
  return h(
    "section",
    { "aria-labelledby": "support-actions", class: "card" },
    h("h2", { id: "support-actions" }, t("support.title")),
    h(
      "form",
      {
        class: "stack",
        id: "pause-form",
        onsubmit: act(
          "pause",
          `${base}/dunning/pause`,
          (data) => ({
            until: new Date(`${data.get("until")}T12:00:00Z`).toISOString(),
            reason: data.get("reason"),
          }),
          ["dunning.paused"],
        ),
      },
      h("h3", {}, t("support.pause")),
      h("label", { for: "pause-until" }, t("support.until")),
      h("input", { id: "pause-until", name: "until", type: "date", required: true, value: tomorrow }),
      reasonField("pause-reason"),
      h("button", { type: "submit" }, t("support.pause")),
    ),
    h(
      "form",
      {
        class: "stack",
        id: "resume-form",
        onsubmit: act("resume", `${base}/dunning/resume`, (data) => ({ reason: data.get("reason") }), [
          "dunning.resumed",
        ]),
      },
      h("h3", {}, t("support.resume")),
      reasonField("resume-reason"),
      h("button", { type: "submit" }, t("support.resume")),
    ),
    owedSubs.map((sub) =>
      h(
        "form",
        {
          class: "stack",
          onsubmit: act(
            "extend",
            `${base}/subscriptions/${encodeURIComponent(sub.subscriptionId)}/extend-grace`,
            (data) => ({ days: Number(data.get("days")), reason: data.get("reason") }),
            ["subscription.grace.extended"],
          ),
        },
        h("h3", {}, `${t("support.extend")} · ${sub.displayName}`),
        h("label", { for: `days-${sub.subscriptionId}` }, t("support.days")),
        h("input", {
          id: `days-${sub.subscriptionId}`,
          name: "days",
          type: "number",
          min: 1,
          max: 30,
          value: 7,
          required: true,
        }),
        reasonField(`extend-reason-${sub.subscriptionId}`),
        h("button", { type: "submit" }, t("support.extend")),
      ),
    ),
    (account.openCharges || []).map((charge) =>
      h(
        "form",
        {
          class: "stack write-off",
          onsubmit: act(
            "writeOff",
            `${base}/charges/${encodeURIComponent(charge.chargeId)}/write-off`,
            (data) => ({ reason: data.get("reason"), notifyAdmin: true }),
            ["charge.written_off"],
          ),
        },
        h("h3", {}, `${t("support.writeOff", { charge: charge.chargeId })} · ${money(charge.amount)}`),
        reasonField(`writeoff-reason-${charge.chargeId}`),
        h("button", { type: "submit" }, t("support.writeOff", { charge: charge.chargeId })),
      ),
    ),
    h(
      "section",
      { "aria-labelledby": "notices-title" },
      h("h3", { id: "notices-title" }, t("console.notices")),
      notices,
    ),
    transferForm(account, act),
  );
}

async function loadNotices(account, into, act, base) {
  let page;
  try {
    page = await call("GET", `${base}/notices`);
  } catch (error) {
    return refused(error, into);
  }
  if (!page.notices.length) return into.replaceChildren(h("p", {}, t("console.noNotices")));
  into.replaceChildren(
    h(
      "ul",
      { class: "plain stack notices" },
      page.notices.map((notice, n) => {
        const reasonId = `resend-reason-${n}`;
        return h(
          "li",
          { class: `notice ${notice.status}`, "data-notice": notice.noticeId },
          h(
            "dl",
            { class: "pairs" },
            h("dt", {}, t("console.notice")),
            h("dd", {}, h("code", {}, notice.kind)),
            h("dt", {}, t("console.to")),
            h("dd", {}, notice.to || "—"),
            h("dt", {}, t("console.status")),
            h(
              "dd",
              { class: "notice-status" },
              t(`console.status.${notice.status}`),
              notice.sentAt ? ` · ${dateTime(notice.sentAt)}` : "",
            ),
            notice.lastError ? [h("dt", {}, t("console.lastError")), h("dd", {}, notice.lastError)] : [],
          ),
          notice.resendable
            ? h(
                "form",
                {
                  class: "stack resend",
                  onsubmit: act(
                    "resend",
                    `${base}/notices/${encodeURIComponent(notice.noticeId)}/resend`,
                    (data) => ({ reason: data.get("reason") }),
                    ["notice.resent"],
                  ),
                },
                reasonField(reasonId),
                h("button", { type: "submit" }, t("console.resend", { kind: notice.kind })),
              )
            : null,
        );
      }),
    ),
  );
}

const LOCALES = ["en-US", "fr-FR", "de-DE", "es-ES"];

function transferForm(account, act) {
  const field = (name, key, attrs = {}) => [
    h("label", { for: `transfer-${name}` }, t(key)),
    h("input", { id: `transfer-${name}`, name, required: true, autocomplete: "off", maxlength: 256, ...attrs }),
  ];
  return h(
    "form",
    {
      class: "stack",
      id: "transfer-form",
      onsubmit: act(
        "transfer",
        `/accounts/${encodeURIComponent(account.accountId)}/transfer-admin`,
        (data) => ({
          principalId: data.get("principalId").trim(),
          email: data.get("email").trim(),
          name: data.get("name").trim(),
          locale: data.get("locale"),
          reason: data.get("reason"),
        }),
        ["admin.transferred"],
      ),
    },
    h("h3", {}, t("console.transfer")),
    h("p", { id: "transfer-help" }, t("console.transferHelp", { name: account.admin.name, email: account.admin.email })),
    field("principalId", "console.newObjectId", { "aria-describedby": "transfer-help", spellcheck: "false" }),
    field("name", "console.newName"),
    field("email", "console.newEmail", { type: "email" }),
    h("label", { for: "transfer-locale" }, t("console.newLocale")),
    h(
      "select",
      { id: "transfer-locale", name: "locale" },
      LOCALES.map((tag) =>
        h("option", { value: tag, selected: tag === account.admin.locale }, t(`console.locale.${tag}`)),
      ),
    ),
    reasonField("transfer-reason"),
    h("button", { type: "submit" }, t("console.transfer")),
  );
}
