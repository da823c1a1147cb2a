// The support console (role Billing.Support): find accounts, open one, and act on it. Every action asks for
// the reason the API keeps in the account's history with the support principal.

import { call } from "./api.js";
import { date, money, t } from "./i18n.js";
import { h, link, refused, renderAccount, say } from "./app.js";

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

function reasonField(id) {
  return [
    h("label", { for: id }, t("support.reason")),
    h("input", { id, name: "reason", required: true, maxlength: 500, autocomplete: "off" }),
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
  const actions = h("div", { class: "view-actions" });
  const draw = (fresh) => {
    actions.replaceChildren(supportActions(fresh, redraw));
  };
  const redraw = (fresh) => {
    section.querySelectorAll(".view").forEach((el) => el.remove());
    renderAccount(section, fresh, { supportView: true });
    section.append(actions);
    draw(fresh);
  };
  redraw(account);
}

function supportActions(account, redraw) {
  const area = h("div", { id: "support-result" });
  const base = `/support/accounts/${encodeURIComponent(account.accountId)}`;
  const act = (path, body) => async (event) => {
    event.preventDefault();
    const form = event.target;
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const fresh = await call("POST", path, { body: body(new FormData(form)) });
      redraw(fresh && fresh.accountId ? fresh : await call("GET", `/accounts/${encodeURIComponent(account.accountId)}`));
      say(document.getElementById("support-result"), t("support.done"), "ok");
    } catch (error) {
      button.disabled = false;
      refused(error, area);
    }
  };
  const tomorrow = new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 10);
  const owedSubs = account.subscriptions.filter((s) => s.state === "pastDue");
  return h(
    "section",
    { "aria-labelledby": "support-actions", class: "card" },
    h("h2", { id: "support-actions" }, t("support.title")),
    area,
    h(
      "form",
      {
        class: "stack",
        id: "pause-form",
        onsubmit: act(`${base}/dunning/pause`, (data) => ({
          until: new Date(`${data.get("until")}T12:00:00Z`).toISOString(),
          reason: data.get("reason"),
        })),
      },
      h("h3", {}, t("support.pause")),
      h("label", { for: "pause-until" }, t("support.until")),
      h("input", { id: "pause-until", name: "until", type: "date", required: true, value: tomorrow }),
      reasonField("pause-reason"),
      h("button", { type: "submit" }, t("support.pause")),
    ),
    h(
      "form",
      { class: "stack", id: "resume-form", onsubmit: act(`${base}/dunning/resume`, () => ({})) },
      h("button", { type: "submit" }, t("support.resume")),
    ),
    owedSubs.map((sub) =>
      h(
        "form",
        {
          class: "stack",
          onsubmit: act(`${base}/subscriptions/${encodeURIComponent(sub.subscriptionId)}/extend-grace`, (data) => ({
            days: Number(data.get("days")),
            reason: data.get("reason"),
          })),
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
          onsubmit: act(`${base}/charges/${encodeURIComponent(charge.chargeId)}/write-off`, (data) => ({
            reason: data.get("reason"),
            notifyAdmin: true,
          })),
        },
        h("h3", {}, `${t("support.writeOff", { charge: charge.chargeId })} · ${money(charge.amount)}`),
        reasonField(`writeoff-reason-${charge.chargeId}`),
        h("button", { type: "submit" }, t("support.writeOff", { charge: charge.chargeId })),
      ),
    ),
  );
}
