// An account as its admin (or support) sees it: the banner, what is owed, the transfer details, the
// pay-now form (Stripe.js or the sandbox), the subscriptions and the contact form.

import { ApiError, call } from "./api.js";
import { date, language, money, t } from "./i18n.js";
import { h, link, refused, ROOT, say } from "./dom.js";

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
