// The page's building blocks every screen shares: elements made from text (never markup), links and
// navigation under /portal/, and how a message or a refusal is shown. The screens are in app.js (which
// routes), account.js (an account and paying it) and support.js, and build with these.

import { ApiError, problemSentence } from "./api.js";
import { signOut } from "./session.js";

export const ROOT = "/portal/";
let router = () => {};

/** What navigate() runs once the address has changed: the router, which app.js names at start. */
export function onNavigate(route) {
  router = route;
}

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
  router();
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
