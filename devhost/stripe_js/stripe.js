// A stand-in for the small part of Stripe.js (v3) the pastdue portal calls, served by the local Stripe
// stand-in (devhost/stripe_standin/server.py) at /js/v3/stripe.js, because Stripe.js itself cannot be fetched here.
//
//   const stripe = Stripe(publishableKey);
//   const card = stripe.elements({ locale }).create("card");  card.mount(container);
//   stripe.confirmCardSetup(clientSecret, { payment_method: { card } })     -> { setupIntent } | { error }
//   stripe.confirmCardPayment(clientSecret, { payment_method: "pm_..." })   -> { paymentIntent } | { error }
//   stripe.handleNextAction({ clientSecret })                               -> { paymentIntent } | { error }
//
// The card field takes the name of one of Stripe's test payment methods (pm_card_visa, pm_card_mastercard,
// pm_card_authenticationRequired...), never a card number: this project writes none anywhere. The API is called as
// Stripe.js calls Stripe's, with the publishable key and the intent's client secret, in form-encoded requests
// that need no CORS preflight. The bank's 3-D Secure challenge is the stand-in's test page in a modal frame.
(function () {
  "use strict";

  const BASE = new URL(document.currentScript.src).origin; // the stand-in: its API and its challenge page
  // Filled in by the stand-in when it serves this file: the test payment methods it knows.
  const TEST_METHODS = new Set(/*TEST_METHODS*/ []);

  const WORDS = {
    en: {
      number: "Test card",
      expiry: "Expiry (MM / YY)",
      cvc: "CVC",
      incompleteNumber: "Enter a test card, such as pm_card_visa.",
      invalidNumber: "This is not one of Stripe's test cards (pm_card_visa, pm_card_authenticationRequired...).",
      expiry_: "Your card's expiration date is incomplete or in the past.",
      cvc_: "Your card's security code is incomplete.",
      challenge: "3-D Secure: confirm it is you",
    },
    fr: {
      number: "Carte de test",
      expiry: "Expiration (MM / AA)",
      cvc: "CVC",
      incompleteNumber: "Saisissez une carte de test, par exemple pm_card_visa.",
      invalidNumber: "Ce n’est pas l’une des cartes de test de Stripe (pm_card_visa, pm_card_authenticationRequired…).",
      expiry_: "La date d'expiration est incomplète ou passée.",
      cvc_: "Le code de sécurité est incomplet.",
      challenge: "3-D Secure : confirmez que c'est bien vous",
    },
    de: {
      number: "Testkarte",
      expiry: "Ablaufdatum (MM / JJ)",
      cvc: "Prüfnummer",
      incompleteNumber: "Geben Sie eine Testkarte ein, zum Beispiel pm_card_visa.",
      invalidNumber: "Das ist keine der Testkarten von Stripe (pm_card_visa, pm_card_authenticationRequired …).",
      expiry_: "Das Ablaufdatum ist unvollständig oder liegt in der Vergangenheit.",
      cvc_: "Die Prüfnummer ist unvollständig.",
      challenge: "3-D Secure: Bestätigen Sie, dass Sie es sind",
    },
    es: {
      number: "Tarjeta de prueba",
      expiry: "Caducidad (MM / AA)",
      cvc: "CVC",
      incompleteNumber: "Introduzca una tarjeta de prueba, por ejemplo pm_card_visa.",
      invalidNumber: "No es una de las tarjetas de prueba de Stripe (pm_card_visa, pm_card_authenticationRequired…).",
      expiry_: "La fecha de caducidad está incompleta o ya pasó.",
      cvc_: "El código de seguridad está incompleto.",
      challenge: "3-D Secure: confirme que es usted",
    },
  };

  let fieldIds = 0;

  class CardElement {
    constructor(words) {
      this.words = words;
      this.handlers = {};
      this.root = null;
      this.inputs = null;
    }

    mount(target) {
      const container = typeof target === "string" ? document.querySelector(target) : target;
      const n = ++fieldIds;
      const field = (name, label, attrs) => {
        const id = `standin-card-${name}-${n}`;
        const wrap = document.createElement("span");
        wrap.className = `standin-card-${name}`;
        wrap.style.cssText = "display:flex;flex-direction:column;gap:.2rem;min-width:0";
        const text = document.createElement("label");
        text.htmlFor = id;
        text.textContent = label;
        const input = document.createElement("input");
        Object.assign(input, { id, type: "text", spellcheck: false, ...attrs });
        input.style.maxWidth = "100%";
        input.setAttribute("data-standin-card", name);
        input.addEventListener("input", () => this._emit("change", this._state()));
        input.addEventListener("focus", () => this._emit("focus", {}));
        input.addEventListener("blur", () => this._emit("blur", {}));
        wrap.append(text, input);
        return [wrap, input];
      };
      const [numberWrap, number] = field("number", this.words.number, {
        autocomplete: "off",
        placeholder: "pm_card_visa",
        size: 30,
      });
      const [expiryWrap, expiry] = field("expiry", this.words.expiry, {
        autocomplete: "cc-exp",
        placeholder: "MM / YY",
        size: 8,
      });
      const [cvcWrap, cvc] = field("cvc", this.words.cvc, { autocomplete: "cc-csc", inputMode: "numeric", size: 5 });
      this.inputs = { number, expiry, cvc };
      this.root = document.createElement("div");
      this.root.className = "standin-card-element";
      this.root.style.cssText = "display:flex;flex-wrap:wrap;gap:.5rem .75rem";
      this.root.append(numberWrap, expiryWrap, cvcWrap);
      container.replaceChildren(this.root);
      this._emit("ready", {});
    }

    on(event, handler) {
      (this.handlers[event] = this.handlers[event] || []).push(handler);
      return this;
    }

    focus() {
      if (this.inputs) this.inputs.number.focus();
    }

    clear() {
      if (!this.inputs) return;
      for (const input of Object.values(this.inputs)) input.value = "";
      this._emit("change", this._state());
    }

    unmount() {
      if (this.root) this.root.remove();
      this.root = null;
      this.inputs = null;
    }

    destroy() {
      this.unmount();
    }

    _emit(event, detail) {
      for (const handler of this.handlers[event] || []) handler({ elementType: "card", ...detail });
    }

    _state() {
      const read = this._read();
      const empty = !this.inputs || Object.values(this.inputs).every((input) => !input.value.trim());
      return { empty, complete: !read.error, error: read.error && !read.incomplete ? read.error : undefined };
    }

    // The test payment method for what was typed, or the error Stripe.js would give for it.
    _read() {
      if (!this.inputs) return { error: this._error("incomplete_number", this.words.incompleteNumber), incomplete: true };
      const typed = this.inputs.number.value.trim();
      if (!typed) return { error: this._error("incomplete_number", this.words.incompleteNumber), incomplete: true };
      if (!TEST_METHODS.has(typed)) return { error: this._error("invalid_number", this.words.invalidNumber) };
      const method = typed;
      const expiry = this.inputs.expiry.value.match(/^\s*(\d{1,2})\s*\/?\s*(\d{2})\s*$/);
      const now = new Date();
      const month = expiry ? Number(expiry[1]) : 0;
      const year = expiry ? 2000 + Number(expiry[2]) : 0;
      if (
        !expiry ||
        month < 1 ||
        month > 12 ||
        year < now.getFullYear() ||
        (year === now.getFullYear() && month < now.getMonth() + 1)
      ) {
        return { error: this._error("invalid_expiry", this.words.expiry_) };
      }
      if (!/^\d{3,4}$/.test(this.inputs.cvc.value.trim())) {
        return { error: this._error("incomplete_cvc", this.words.cvc_) };
      }
      return { method };
    }

    _error(code, message) {
      return { type: "validation_error", code, message };
    }
  }

  function idOf(clientSecret) {
    return String(clientSecret || "").split("_secret_")[0];
  }

  function connectionError() {
    return { type: "api_connection_error", message: "The Stripe stand-in could not be reached." };
  }

  function Stripe(publishableKey, options) {
    if (!(this instanceof Stripe)) return new Stripe(publishableKey, options);
    if (typeof publishableKey !== "string" || !publishableKey.startsWith("pk_")) {
      throw new Error("Stripe(): a publishable key (pk_...) is required");
    }
    let locale = (options && options.locale) || "en";
    const words = () => WORDS[String(locale).slice(0, 2)] || WORDS.en;

    async function api(method, path, params) {
      const form = new URLSearchParams({ key: publishableKey, ...params });
      try {
        const answer = await fetch(method === "GET" ? `${BASE}${path}?${form}` : BASE + path, {
          method,
          body: method === "GET" ? undefined : form,
        });
        return await answer.json();
      } catch {
        return { error: connectionError() };
      }
    }

    // The bank's challenge: the stand-in's test page in a modal frame, until it says how it ended.
    function challenge(kind, id) {
      return new Promise((resolve) => {
        const before = document.activeElement;
        const label = words().challenge;
        const overlay = document.createElement("div");
        overlay.setAttribute("role", "dialog");
        overlay.setAttribute("aria-modal", "true");
        overlay.setAttribute("aria-label", label);
        overlay.className = "standin-3ds";
        overlay.style.cssText =
          "position:fixed;inset:0;z-index:2147483647;display:flex;align-items:center;justify-content:center;" +
          "background:rgba(0,0,0,.55)";
        const frame = document.createElement("iframe");
        frame.title = label;
        frame.name = "standin-3ds";
        frame.src = `${BASE}/_standin/challenge/${kind}/${encodeURIComponent(id)}`;
        frame.style.cssText =
          "width:min(26rem,94vw);height:min(22rem,90vh);border:0;border-radius:.5rem;background:#fff";
        const finished = (event) => {
          if (event.source !== frame.contentWindow || event.origin !== BASE) return;
          if (!event.data || event.data.type !== "standin-3ds") return;
          window.removeEventListener("message", finished);
          overlay.remove();
          if (before && typeof before.focus === "function") before.focus();
          resolve(event.data.outcome);
        };
        window.addEventListener("message", finished);
        frame.addEventListener("load", () => frame.focus());
        overlay.append(frame);
        document.body.append(overlay);
      });
    }

    // After a confirmation: the challenge if the intent asks for one, then the intent as it stands.
    async function settle(kind, answer, clientSecret) {
      const single = kind === "setup_intents" ? "setupIntent" : "paymentIntent";
      if (answer.error) return { error: answer.error };
      let intent = answer;
      if (intent.status === "requires_action" && intent.next_action && intent.next_action.type === "use_stripe_sdk") {
        await challenge(kind, intent.id);
        intent = await api("GET", `/v1/${kind}/${intent.id}`, { client_secret: clientSecret });
        if (intent.error) return { error: intent.error };
      }
      if (intent.status === "requires_payment_method" || intent.status === "requires_action") {
        const last = (kind === "setup_intents" ? intent.last_setup_error : intent.last_payment_error) || {
          type: "invalid_request_error",
          code: kind === "setup_intents" ? "setup_intent_authentication_failure" : "payment_intent_authentication_failure",
          message: "The authentication was not completed.",
        };
        return { error: { ...last, [kind === "setup_intents" ? "setup_intent" : "payment_intent"]: intent } };
      }
      return { [single]: intent };
    }

    return {
      elements(elementOptions) {
        if (elementOptions && elementOptions.locale) locale = elementOptions.locale;
        return {
          create(type) {
            if (type !== "card") throw new Error(`the Stripe.js stand-in has no "${type}" element`);
            return new CardElement(words());
          },
        };
      },

      async confirmCardSetup(clientSecret, data) {
        const element = data && data.payment_method && data.payment_method.card;
        const method =
          typeof (data && data.payment_method) === "string" ? { method: data.payment_method } : element._read();
        if (method.error) return { error: method.error };
        const id = idOf(clientSecret);
        const answer = await api("POST", `/v1/setup_intents/${id}/confirm`, {
          client_secret: clientSecret,
          payment_method: method.method,
        });
        return settle("setup_intents", answer, clientSecret);
      },

      async confirmCardPayment(clientSecret, data) {
        const chosen = data && data.payment_method;
        const method = typeof chosen === "string" ? { method: chosen } : chosen ? chosen.card._read() : {};
        if (method.error) return { error: method.error };
        const params = { client_secret: clientSecret };
        if (method.method) params.payment_method = method.method;
        const answer = await api("POST", `/v1/payment_intents/${idOf(clientSecret)}/confirm`, params);
        return settle("payment_intents", answer, clientSecret);
      },

      async handleNextAction(options) {
        const clientSecret = options && options.clientSecret;
        const id = idOf(clientSecret);
        const kind = id.startsWith("seti_") ? "setup_intents" : "payment_intents";
        const intent = await api("GET", `/v1/${kind}/${id}`, { client_secret: clientSecret });
        if (intent.error) return { error: intent.error };
        if (intent.status !== "requires_action") {
          return {
            error: {
              type: "invalid_request_error",
              code: kind === "setup_intents" ? "setup_intent_unexpected_state" : "payment_intent_unexpected_state",
              message: `handleNextAction: the intent's status is ${intent.status}, not requires_action.`,
            },
          };
        }
        const done = await settle(kind, intent, clientSecret);
        return kind === "setup_intents" && done.setupIntent ? { setupIntent: done.setupIntent } : done;
      },
    };
  }

  window.Stripe = Stripe;
})();
