// The webhooks console's common parts: the API client and the page builder. The console is
// a few plain scripts over the public API, loaded in order (no build step, no library);
// every page is built with DOM calls and never parses API data as HTML.
'use strict';

const KEY = 'webhooks.key';
/// The key signed in (`GET /v1/me`: its tenant and scopes), asked once per sign-in: the
/// pages offer only what it may do (the API holds it anyway).
let me = null;

function may(scope) {
  return Boolean(me) && (me.scopes.includes('admin') || me.scopes.includes(scope));
}
const main = () => document.getElementById('main');

// ---------- the API ----------

class Refused extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    this.details = (body && body.error && body.error.details) || [];
  }
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(KEY)}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (response.status === 401 && path !== '/v1/webhooks?limit=1') {
    signOut('Your key is no longer accepted: sign in again.');
  }
  if (!response.ok) throw new Refused(response.status, data);
  return data;
}

// ---------- building pages ----------

function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'text') element.textContent = value;
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) {
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return element;
}

function show(...children) {
  main().replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined));
  const heading = main().querySelector('h1');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

function failure(error) {
  return h('p', { class: 'error', role: 'alert', text: error.message });
}
