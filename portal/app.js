// The reference portal: routing (history API under /portal/), sign-in, the admin's accounts and an
// account's history; an account itself is drawn by account.js, support's screens by support.js, and all of
// them build with dom.js. Everything the API returns is put in the page as text (textContent), never as HTML.

import { call, configure } from "./api.js";
import { dateTime, language, money, setLanguage, t } from "./i18n.js";
import { currentUser, isSupport, signIn, signInWithEntra, signOut, startSession } from "./session.js";
import { renderAccount } from "./account.js";
import { h, link, navigate, onNavigate, ROOT, refused, say } from "./dom.js";
import { supportScreen, supportAccountScreen } from "./support.js";

const main = document.getElementById("main");
let config = { signIn: "local", demoUsers: [], apiBase: "/api" };
onNavigate(route);

function setTitle(text) {
  document.title = `${text} · ${t("brand")}`;
}

// --- sign-in ------------------------------------------------------------------------------------------
function signInScreen() {
  setTitle(t("signIn.title"));
  const area = h("div");
  if (sessionStorage.getItem("pastdue.expired")) {
    sessionStorage.removeItem("pastdue.expired");
    say(area, t("signIn.expired"), "info");
  }
  const done = (user) => {
    signIn(user);
    const back = sessionStorage.getItem("pastdue.return");
    sessionStorage.removeItem("pastdue.return");
    navigate(back || (isSupport(user) ? "support" : ""), { replace: true });
  };
  if (config.signIn === "entra") {
    const go = () => {
      const back = sessionStorage.getItem("pastdue.return");
      sessionStorage.removeItem("pastdue.return");
      signInWithEntra(back);
    };
    return h(
      "section",
      { class: "card narrow" },
      h("h1", {}, t("signIn.title")),
      area,
      h("p", {}, h("button", { type: "button", onclick: go }, t("signIn.appservice"))),
    );
  }
  if (config.signIn !== "local") {
    return h(
      "section",
      { class: "card narrow" },
      h("h1", {}, t("signIn.title")),
      h("p", {}, h("a", { href: "/.auth/login/aad?post_login_redirect_uri=/portal/" }, t("signIn.appservice"))),
    );
  }
  const users = config.demoUsers.map((user) =>
    h("li", {}, h("button", { type: "button", onclick: () => done(user) }, t("signIn.as", { name: user.name }))),
  );
  const form = h(
    "form",
    {
      class: "stack",
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(event.target);
        const objectId = String(data.get("objectId") || "").trim();
        if (!objectId) return say(area, t("problem.badField", { field: t("signIn.objectId") }));
        done({
          objectId,
          name: String(data.get("name") || "").trim() || objectId,
          roles: data.get("support") ? ["Billing.Support"] : [],
        });
      },
    },
    h("label", { for: "oid" }, t("signIn.objectId")),
    h("input", { id: "oid", name: "objectId", autocomplete: "username", required: true, spellcheck: "false" }),
    h("label", { for: "uname" }, t("signIn.name")),
    h("input", { id: "uname", name: "name", autocomplete: "name" }),
    h(
      "label",
      { class: "check" },
      h("input", { type: "checkbox", name: "support", id: "support-role" }),
      t("signIn.support"),
    ),
    h("button", { type: "submit" }, t("signIn.submit")),
  );
  return h(
    "section",
    { class: "card narrow" },
    h("h1", {}, t("signIn.title")),
    h("p", {}, t("signIn.intro")),
    area,
    h("h2", {}, t("signIn.demo")),
    h("ul", { class: "plain stack" }, users),
    h("h2", {}, t("signIn.other")),
    form,
  );
}

// --- my accounts --------------------------------------------------------------------------------------
async function accountsScreen() {
  setTitle(t("accounts.title"));
  const area = h("div");
  const section = h("section", {}, h("h1", {}, t("accounts.title")), area);
  show(section);
  try {
    const { accounts } = await call("GET", "/me/accounts");
    if (!accounts.length) return section.append(h("p", {}, t("accounts.none")));
    section.append(
      h(
        "ul",
        { class: "plain tiles" },
        accounts.map((a) =>
          h(
            "li",
            { class: `card ${a.balance.value ? "owing" : ""}` },
            h("h2", {}, link(`billing/${encodeURIComponent(a.accountId)}`, a.accountId)),
            h(
              "dl",
              { class: "pairs" },
              h("dt", {}, t("accounts.balance")),
              h("dd", {}, money(a.balance)),
              h("dt", {}, t("accounts.subscriptions")),
              h("dd", {}, a.subscriptions),
              h("dt", {}, t("accounts.alerts")),
              h("dd", {}, a.alerts),
            ),
          ),
        ),
      ),
    );
  } catch (error) {
    refused(error, area);
  }
}

// --- one account --------------------------------------------------------------------------------------
async function accountScreen(accountId, focus, { supportView = false } = {}) {
  setTitle(t("account.title", { id: accountId }));
  const area = h("div");
  const section = h(
    "section",
    { class: "account" },
    supportView ? link("support", t("nav.support"), { class: "back" }) : link("", t("account.back"), { class: "back" }),
    h("h1", {}, t("account.title", { id: accountId })),
    area,
  );
  show(section);
  let account;
  try {
    account = await call("GET", `/accounts/${encodeURIComponent(accountId)}`);
  } catch (error) {
    return refused(error, area);
  }
  renderAccount(section, account, { supportView });
  const target = focus && section.querySelector(`#${focus}`);
  if (target) {
    target.scrollIntoView({ block: "start" });
    const heading = target.querySelector("h2");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }
  return account;
}

// --- history ------------------------------------------------------------------------------------------
async function historyScreen(accountId) {
  setTitle(t("history.title"));
  const area = h("div");
  const body = h("tbody");
  const more = h("button", { type: "button", id: "older", hidden: true }, t("history.older"));
  const section = h(
    "section",
    {},
    link(`billing/${encodeURIComponent(accountId)}`, t("account.title", { id: accountId }), { class: "back" }),
    h("h1", {}, t("history.title")),
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, t("history.when")),
            h("th", { scope: "col" }, t("history.what")),
            h("th", { scope: "col" }, t("history.who")),
          ),
        ),
        body,
      ),
    ),
    more,
    area,
  );
  show(section);
  let cursor = null;
  const load = async () => {
    more.disabled = true;
    try {
      const params = new URLSearchParams({ limit: "20" });
      if (cursor) params.set("cursor", cursor);
      const page = await call("GET", `/accounts/${encodeURIComponent(accountId)}/history?${params}`);
      for (const entry of page.entries) {
        body.append(
          h(
            "tr",
            { "data-seq": entry.seq },
            h("td", {}, dateTime(entry.at)),
            h("td", {}, h("code", {}, entry.kind), entry.subscriptionId ? ` · ${entry.subscriptionId}` : ""),
            h("td", {}, entry.actor),
          ),
        );
      }
      if (!body.children.length) area.append(h("p", {}, t("history.empty")));
      cursor = page.next;
      more.hidden = !cursor;
    } catch (error) {
      refused(error, area);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", load);
  await load();
}

// --- routing ------------------------------------------------------------------------------------------
function show(node) {
  main.replaceChildren(node);
}

function renderChrome() {
  const user = currentUser();
  document.documentElement.lang = language();
  document.getElementById("language").value = language();
  document.querySelectorAll("[data-i18n]").forEach((el) => {
    el.textContent = t(el.dataset.i18n);
  });
  document.getElementById("user").textContent = user ? user.name : "";
  document.getElementById("sign-out").hidden = !user;
  const nav = document.getElementById("nav");
  nav.replaceChildren();
  if (user) {
    nav.append(link("", t("nav.accounts")));
    if (isSupport(user)) nav.append(link("support", t("nav.support")));
  }
}

export async function route() {
  renderChrome();
  const path = location.pathname.startsWith(ROOT) ? location.pathname.slice(ROOT.length) : "";
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "signin") return show(signInScreen());
  if (!currentUser()) {
    if (path) sessionStorage.setItem("pastdue.return", location.pathname);
    return navigate("signin", { replace: true });
  }
  if (parts[0] === "billing" && parts[1]) {
    const sub = parts[2];
    if (sub === "history") return historyScreen(parts[1]);
    const focus = {
      pay: "pay-now",
      "payment-method": "pay-now",
      "payment-confirmations": "alerts",
      invoices: "transfer",
      contact: "contact",
      subscriptions: "subscriptions",
    }[sub];
    return accountScreen(parts[1], focus);
  }
  if (parts[0] === "support" && parts[1]) return supportAccountScreen(parts[1]);
  if (parts[0] === "support") return supportScreen();
  return accountsScreen();
}

async function start() {
  try {
    const answer = await fetch(`${ROOT}config.json`);
    if (answer.ok) config = await answer.json();
  } catch {
    // The defaults: local sign-in, the API on this origin.
  }
  configure(config);
  await startSession(config);
  setLanguage(language());
  document.getElementById("language").addEventListener("change", (event) => {
    setLanguage(event.target.value);
    route();
  });
  document.getElementById("sign-out").addEventListener("click", () => {
    signOut({ everywhere: true });
    navigate("signin");
  });
  document.addEventListener("click", (event) => {
    const a = event.target.closest("a[data-link]");
    if (!a || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(a.getAttribute("href"));
  });
  window.addEventListener("popstate", route);
  await route();
}

start();
