// The reference portal: screens, routing (history API under /portal/) and the calls each screen makes.
// Everything the API returns is put in the page as text (textContent), never as HTML.

import { ApiError, call, configure, problemSentence } from "./api.js";
import { date, dateTime, language, money, setLanguage, t } from "./i18n.js";
import { currentUser, isSupport, signIn, signInWithEntra, signOut, startSession } from "./session.js";
import { supportScreen, supportAccountScreen } from "./support.js";

const ROOT = "/portal/";
const main = document.getElementById("main");
let config = { signIn: "local", demoUsers: [], apiBase: "/api" };

/** An element: h("p", {class: "x"}, "text", child). Strings become text nodes, never markup. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function link(path, text, attrs = {}) {
  return h("a", { href: ROOT + path.replace(/^\//, ""), "data-link": true, ...attrs }, text);
}

export function navigate(path, { replace = false } = {}) {
  const url = path.startsWith("/") ? path : ROOT + path;
  if (replace) history.replaceState({}, "", url);
  else history.pushState({}, "", url);
  route();
}

/** A message area: errors are announced at once (role=alert), successes politely (role=status). */
export function say(area, text, kind = "error") {
  area.replaceChildren();
  if (!text) return;
  area.append(h("p", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" }, text));
}

/** What every screen does with a refusal: 401 to sign-in, else the sentence in the given area. */
export function refused(error, area) {
  if (error instanceof ApiError && error.status === 401) {
    signOut();
    sessionStorage.setItem("pastdue.return", location.pathname);
    sessionStorage.setItem("pastdue.expired", "1");
    navigate("signin", { replace: true });
    return;
  }
  say(area, problemSentence(error));
}

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
// The intent to pay: its Idempotency-Key is made once, when the person starts paying an account with a card,
// and kept until the API gives a final answer (paid, or declined); a lost answer or a 5xx keeps it, so the
// next click asks for the same payment and can never pay twice.
let intent = null;

function payIntent(accountId, token) {
  if (!intent || intent.accountId !== accountId || intent.token !== token) {
    intent = { accountId, token, key: `portal-${crypto.randomUUID()}` };
  }
  return intent;
}

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

export function renderAccount(section, account, { supportView = false, afterChange = null } = {}) {
  const redraw = (fresh) => {
    section.querySelectorAll(".view").forEach((el) => el.remove());
    renderAccount(section, fresh, { supportView, afterChange });
    if (afterChange) afterChange(fresh);
  };
  const view = h("div", { class: "view" });
  const names = Object.fromEntries(account.subscriptions.map((s) => [s.subscriptionId, s.displayName]));
  view.append(banner(account, names));
  if (account.alerts.length) {
    view.append(
      h(
        "section",
        { "aria-labelledby": "alerts-title", id: "alerts" },
        h("h2", { id: "alerts-title" }, t("alerts.title")),
        h(
          "ul",
          { class: "plain stack" },
          account.alerts.map((alert) =>
            h(
              "li",
              { class: `alert ${alert.severity}`, "data-kind": alert.kind },
              h("p", {}, alert.message),
              alertLink(alert),
            ),
          ),
        ),
      ),
    );
  }
  view.append(owedTable(account, names));
  if (account.paymentMode === "invoice" && account.transfer) view.append(transferBlock(account.transfer));
  if (account.paymentMode === "card" && !supportView) view.append(payForm(account, redraw));
  view.append(subscriptionsBlock(account, redraw));
  if (!supportView) view.append(contactForm(account, redraw));
  view.append(
    h(
      "p",
      { id: "history-link" },
      link(`billing/${encodeURIComponent(account.accountId)}/history`, t("history.open")),
    ),
  );
  section.append(view);
}

function banner(account, names) {
  const pastDue = account.alerts.filter((a) => a.kind === "pastDue" || a.kind === "pastDueInvoice");
  const disabled = account.subscriptions.filter((s) => s.state === "disabled" && s.balance.value > 0);
  if (!account.balance.value) {
    return h("p", { class: "banner ok", id: "banner" }, t("account.paidUp"));
  }
  const lines = [h("p", { class: "big" }, t("banner.pastDue", { amount: money(account.balance) }))];
  const deadlines = pastDue.map((a) => a.deadline).filter(Boolean).sort();
  if (deadlines.length) {
    lines.push(h("p", {}, t("banner.deadline", { date: date(deadlines[0]) })));
    const which = pastDue.map((a) => `“${names[a.subscriptionId] || a.subscriptionId}”`).join(", ");
    lines.push(h("p", {}, t("banner.then", { names: which })));
  }
  for (const sub of disabled) {
    lines.push(
      h(
        "p",
        {},
        t("banner.disabled", {
          name: `“${sub.displayName}”`,
          date: date(sub.deletionScheduledAt),
          amount: money(sub.balance),
        }),
      ),
    );
  }
  return h("section", { class: "banner due", id: "banner", "aria-label": t("banner.pastDue", { amount: "" }) }, lines);
}

function alertLink(alert) {
  const target = alert.action && alert.action.link;
  if (!target) return null;
  try {
    const url = new URL(target, location.href);
    if (url.origin === location.origin && url.pathname.startsWith(ROOT)) {
      return h("a", { href: url.pathname, "data-link": true }, alertActionWords(alert.action.kind));
    }
    return h("a", { href: url.href }, alertActionWords(alert.action.kind));
  } catch {
    return null;
  }
}

function alertActionWords(kind) {
  return (
    {
      updatePaymentMethod: t("pay.title"),
      sendTransfer: t("transfer.title"),
      reactivate: t("subs.title"),
      verifyEmail: t("contact.title"),
      confirmPayment: t("pay.title"),
    }[kind] || t("pay.title")
  );
}

function owedTable(account, names) {
  const rows = account.openCharges || [];
  if (!rows.length) return h("div");
  return h(
    "section",
    { "aria-labelledby": "owed-title", id: "owed" },
    h("h2", { id: "owed-title" }, t("owed.title")),
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "owed-table" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, t("owed.subscription")),
            h("th", { scope: "col" }, t("owed.since")),
            h("th", { scope: "col", class: "num" }, t("owed.amount")),
            h("th", { scope: "col" }, t("owed.nextRetry")),
          ),
        ),
        h(
          "tbody",
          {},
          rows.map((row) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, names[row.subscriptionId] || row.subscriptionId),
              h("td", { "data-label": t("owed.since") }, date(row.failedAt)),
              h("td", { class: "num", "data-label": t("owed.amount") }, money(row.amount)),
              h(
                "td",
                { "data-label": t("owed.nextRetry") },
                row.nextRetryAt
                  ? t("owed.retries", { date: date(row.nextRetryAt), left: row.retriesLeft })
                  : t("owed.noRetry"),
              ),
            ),
          ),
        ),
        h(
          "tfoot",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "row", colspan: 2 }, t("owed.total")),
            h("td", { class: "num", id: "owed-total" }, money(account.balance)),
            h("td", {}),
          ),
        ),
      ),
    ),
  );
}

function transferBlock(transfer) {
  const area = h("div", { class: "live", "aria-live": "polite" });
  const copyRow = (id, label, value, shown) =>
    h(
      "div",
      { class: "copy-row" },
      h("dt", {}, label),
      h("dd", {}, h("code", { id }, shown || value)),
      h(
        "dd",
        {},
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            onclick: async () => {
              try {
                await navigator.clipboard.writeText(value);
                say(area, t("transfer.copied", { what: label }), "ok");
              } catch {
                // No clipboard (an insecure origin, or refused): select the text so the person can copy it.
                const range = document.createRange();
                range.selectNodeContents(document.getElementById(id));
                getSelection().removeAllRanges();
                getSelection().addRange(range);
              }
            },
          },
          t("transfer.copy", { what: label }),
        ),
      ),
    );
  const grouped = transfer.iban.replace(/(.{4})(?=.)/g, "$1 ");
  return h(
    "section",
    { "aria-labelledby": "transfer-title", id: "transfer", class: "card" },
    h("h2", { id: "transfer-title" }, t("transfer.title")),
    h("p", {}, t("transfer.intro", { amount: money(transfer.amount) })),
    h(
      "div",
      { class: "transfer" },
      h(
        "dl",
        { class: "pairs" },
        h("dt", {}, t("transfer.payee")),
        h("dd", {}, transfer.payee),
        copyRow("iban", t("transfer.iban"), transfer.iban, grouped),
        transfer.bic ? [h("dt", {}, t("transfer.bic")), h("dd", {}, transfer.bic)] : null,
        transfer.reference ? copyRow("reference", t("transfer.reference"), transfer.reference) : null,
      ),
      transfer.qrCode
        ? h(
            "figure",
            { class: "qr" },
            h("img", { src: transfer.qrCode, alt: t("transfer.qr"), id: "epc-qr" }),
            h("figcaption", {}, t("transfer.qr")),
          )
        : null,
    ),
    area,
  );
}

// Stripe.js, loaded once from the address the setup route names (Stripe's own in Azure, the Stripe
// stand-in's locally), and one Stripe object per publishable key.
let stripeScript = null;
const stripes = new Map();

function loadStripe(url, publishableKey) {
  if (!stripeScript) {
    stripeScript = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.onload = () => (window.Stripe ? resolve(window.Stripe) : reject(new Error("Stripe.js")));
      script.onerror = () => {
        stripeScript = null;
        script.remove();
        reject(new Error("Stripe.js"));
      };
      document.head.append(script);
    });
  }
  return stripeScript.then((Stripe) => {
    if (!stripes.has(publishableKey)) stripes.set(publishableKey, Stripe(publishableKey, { locale: language() }));
    return stripes.get(publishableKey);
  });
}

/** What Stripe.js said went wrong, in the person's words. */
function stripeErrorSentence(error) {
  switch (error && error.code) {
    case "payment_intent_authentication_failure":
      return t("pay.authFailed");
    case "setup_intent_authentication_failure":
      return t("pay.setupAuthFailed");
    default:
      break;
  }
  if (error && error.type === "validation_error" && error.message) return error.message; // Stripe's own, localised
  if (error && error.type === "card_error") {
    const reason = t(`decline.${error.decline_code || error.code}`, null);
    return t("problem.declined", { reason: reason || t("decline.other") });
  }
  if (error && error.type === "api_connection_error") return t("problem.network");
  return t("pay.stripeFailed");
}

const SETTLE_POLL_MS = 500;
const SETTLE_WAIT_MS = 30000;

/** The account once the processor's event has settled what was owed (the balance went down), or as it is
 * after SETTLE_WAIT_MS; `settled` says which. */
async function settledAccount(accountId, before) {
  const until = Date.now() + SETTLE_WAIT_MS;
  for (;;) {
    const fresh = await call("GET", `/accounts/${encodeURIComponent(accountId)}`);
    if (fresh.balance.value < before) return { account: fresh, settled: true };
    if (Date.now() > until) return { account: fresh, settled: false };
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
  }
}

function payForm(account, redraw) {
  const area = h("div");
  const onFile = account.paymentMethod
    ? t("pay.onFile", {
        brand: account.paymentMethod.brand,
        last4: account.paymentMethod.last4,
        month: account.paymentMethod.expMonth,
        year: account.paymentMethod.expYear,
      })
    : t("pay.none");
  const select = h("select", { id: "card", name: "card", required: true });
  const amount = account.balance.value ? money(account.balance) : "";
  const label = () => (amount ? t("pay.submit", { amount }) : t("pay.title"));
  const button = h("button", { type: "submit", id: "pay" }, label());
  const intro = h("p", {}, t("pay.intro"));
  // The sandbox's test cards in a list; in Stripe mode, Stripe's card element in its place.
  const field = h("div", { class: "stack" }, h("label", { for: "card" }, t("pay.card")), select);
  // A payment the bank wants confirmed: what to do about it, and the button that starts the bank's check.
  const confirmArea = h("div", { id: "pay-confirm" });
  let stripe = null; // { client, card, setup, confirmed }: Stripe mode
  let busy = false;

  const finished = (answer) => {
    const paid = answer.settled.reduce((sum, s) => sum + s.amount.value, 0);
    const currency = answer.account.balance.currency;
    redraw(answer.account);
    say(
      document.getElementById("pay-result"),
      paid ? t("pay.done", { amount: money({ value: paid, currency }) }) : t("pay.saved"),
      "ok",
    );
  };

  // A new SetupIntent for the next card (one that was confirmed is used up once the API gave its answer).
  const renewSetup = async () => {
    try {
      stripe.setup = await call("POST", `/accounts/${encodeURIComponent(account.accountId)}/payment-method/setup`);
      stripe.confirmed = null;
    } catch (error) {
      refused(error, area);
    }
  };

  // The bank's check of a payment (3-D Secure), shown by Stripe.js; the payment is the one the API made, so
  // however often it is tried, it is paid once. Then the account as the processor's event leaves it.
  const authenticate = async (confirmation, trigger) => {
    if (busy) return;
    busy = true;
    if (trigger) trigger.disabled = true;
    button.disabled = true;
    confirmArea.replaceChildren();
    say(area, t("pay.authenticating"), "info");
    try {
      const client = stripe.client;
      const result =
        confirmation.status === "requires_action"
          ? await client.handleNextAction({ clientSecret: confirmation.clientSecret })
          : await client.confirmCardPayment(confirmation.clientSecret, {
              payment_method: confirmation.paymentMethodId,
            });
      if (result.error) {
        // Nothing was paid: the same payment can be confirmed again (Stripe.js confirms it anew).
        say(area, stripeErrorSentence(result.error));
        offerConfirmation({ ...confirmation, status: "requires_payment_method" }, t("pay.authRetry"));
        return;
      }
      say(area, t("pay.confirming"), "info");
      const { account: fresh, settled } = await settledAccount(account.accountId, account.balance.value);
      redraw(fresh);
      say(
        document.getElementById("pay-result"),
        settled ? t("pay.done", { amount: money(confirmation.amount) }) : t("pay.pending"),
        "ok",
      );
    } catch (error) {
      refused(error, area);
    } finally {
      busy = false;
      button.disabled = false;
    }
  };

  const offerConfirmation = (confirmation, words) => {
    const again = h(
      "button",
      { type: "button", id: "confirm-payment", onclick: (event) => authenticate(confirmation, event.currentTarget) },
      words,
    );
    confirmArea.replaceChildren(again);
  };

  const send = async (token) => {
    const current = payIntent(account.accountId, token);
    try {
      const answer = await call("PUT", `/accounts/${encodeURIComponent(account.accountId)}/payment-method`, {
        body: { paymentMethodToken: current.token },
        headers: { "Idempotency-Key": current.key },
      });
      intent = null;
      finished(answer);
    } catch (error) {
      // A final refusal (a decline, a bad request) ends this intent; a lost answer or a 5xx keeps its key.
      const final = error instanceof ApiError && error.status >= 400 && error.status < 500;
      if (final) intent = null;
      const confirmation = error instanceof ApiError && error.problem.confirmation;
      if (stripe && final) await renewSetup();
      if (stripe && error.slug === "authentication-required" && confirmation) {
        // The card is saved; the bank asks the person to confirm the payment the API made.
        busy = false;
        return authenticate(confirmation);
      }
      refused(error, area);
    }
  };

  const payWithStripe = async () => {
    // After a lost answer the same SetupIntent goes again, under the same key: never a second payment.
    let token = stripe.confirmed;
    if (!token) {
      const { setupIntent, error } = await stripe.client.confirmCardSetup(stripe.setup.clientSecret, {
        payment_method: { card: stripe.card },
      });
      if (error) return say(area, stripeErrorSentence(error));
      token = stripe.confirmed = setupIntent.id;
    }
    await send(token);
  };

  const form = h(
    "form",
    {
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        if (busy) return;
        busy = true;
        button.disabled = true;
        button.textContent = t("pay.paying");
        say(area, "");
        try {
          if (stripe) await payWithStripe();
          else await send(select.value);
        } finally {
          if (busy) {
            busy = false;
            button.disabled = false;
          }
          button.textContent = label();
        }
      },
    },
    field,
    button,
  );

  const mountStripe = async (setup) => {
    intro.textContent = t("pay.introStripe");
    const element = h("div", { id: "card-element" });
    field.replaceChildren(h("fieldset", { class: "card-fields" }, h("legend", {}, t("pay.cardDetails")), element));
    button.disabled = true;
    try {
      const client = await loadStripe(setup.stripeJsUrl, setup.publishableKey);
      const card = client.elements({ locale: language() }).create("card");
      card.mount(element);
      stripe = { client, card, setup, confirmed: null };
      button.disabled = false;
    } catch {
      say(area, t("pay.stripeUnavailable"));
      return;
    }
    // A payment still waiting for the bank's check (the alert's link leads here): confirm it now.
    if (account.alerts.some((a) => a.kind === "confirmPayment")) {
      const { confirmations } = await call(
        "GET",
        `/accounts/${encodeURIComponent(account.accountId)}/payment-confirmations`,
      );
      const waiting = confirmations.find((c) => c.clientSecret);
      if (waiting) offerConfirmation(waiting, t("pay.confirm", { amount: money(waiting.amount) }));
    }
  };

  call("POST", `/accounts/${encodeURIComponent(account.accountId)}/payment-method/setup`)
    .then((setup) => {
      if (setup.gateway === "stripe") return mountStripe(setup);
      for (const token of setup.testPaymentMethods || []) {
        select.append(h("option", { value: token }, t(`card.${token}`, null) || token));
      }
      if (intent && intent.accountId === account.accountId) select.value = intent.token;
      return null;
    })
    .catch((error) => refused(error, area));
  return h(
    "section",
    { "aria-labelledby": "pay-title", id: "pay-now", class: "card" },
    h("h2", { id: "pay-title" }, t("pay.title")),
    h("p", {}, onFile),
    intro,
    form,
    area,
    confirmArea,
    h("div", { id: "pay-result" }),
  );
}

function subscriptionsBlock(account, redraw) {
  const area = h("div");
  return h(
    "section",
    { "aria-labelledby": "subs-title", id: "subscriptions" },
    h("h2", { id: "subs-title" }, t("subs.title")),
    h(
      "ul",
      { class: "plain stack" },
      account.subscriptions.map((sub) =>
        h(
          "li",
          { class: "sub", "data-subscription": sub.subscriptionId },
          h("strong", {}, sub.displayName),
          " ",
          h("span", { class: `state ${sub.state}` }, t(`subs.state.${sub.state}`)),
          " ",
          money(sub.balance),
          sub.state === "disabled" && !sub.balance.value
            ? h(
                "button",
                {
                  type: "button",
                  class: "reactivate",
                  onclick: async (event) => {
                    event.target.disabled = true;
                    try {
                      await call(
                        "POST",
                        `/accounts/${encodeURIComponent(account.accountId)}/subscriptions/${encodeURIComponent(sub.subscriptionId)}/reactivate`,
                      );
                      const fresh = await call("GET", `/accounts/${encodeURIComponent(account.accountId)}`);
                      redraw(fresh);
                      say(
                        document.getElementById("subs-result"),
                        t("subs.reactivated", { name: sub.displayName }),
                        "ok",
                      );
                    } catch (error) {
                      event.target.disabled = false;
                      refused(error, area);
                    }
                  },
                },
                t("subs.reactivate", { name: sub.displayName }),
              )
            : null,
        ),
      ),
    ),
    area,
    h("div", { id: "subs-result" }),
  );
}

function contactForm(account, redraw) {
  const area = h("div");
  const input = h("input", {
    id: "contact-email",
    name: "email",
    type: "email",
    autocomplete: "email",
    required: true,
    value: account.admin && account.admin.email,
  });
  return h(
    "section",
    { "aria-labelledby": "contact-title", id: "contact", class: "card" },
    h("h2", { id: "contact-title" }, t("contact.title")),
    h(
      "form",
      {
        class: "stack",
        onsubmit: async (event) => {
          event.preventDefault();
          try {
            const fresh = await call("PUT", `/accounts/${encodeURIComponent(account.accountId)}/admin-contact`, {
              body: { email: input.value.trim() },
            });
            redraw(fresh);
            say(document.getElementById("contact-result"), t("contact.saved", { email: fresh.admin.email }), "ok");
          } catch (error) {
            refused(error, area);
          }
        },
      },
      h("label", { for: "contact-email" }, t("contact.email")),
      input,
      h("button", { type: "submit" }, t("contact.save")),
    ),
    area,
    h("div", { id: "contact-result" }),
  );
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
