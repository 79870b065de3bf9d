// The customer portal: the console opened with a portal session's token in the URL's
// fragment (`/console#portal=whp_...`, which a browser never sends to a server), and the
// branding a product gives it there too: `primary` (a colour, `1f6feb`), `logo` (an https
// URL), `theme=dark`, `nav=hidden`. The API holds the session's limits; the pages only
// leave out what it may not do.
'use strict';

const BRANDING = 'webhooks.branding';
const PORTAL = 'webhooks.portal';

/// Takes a portal token and branding from the fragment into this tab's sessionStorage, and
/// replaces the fragment at once, so that the token stays in no history entry.
function takePortalLink() {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const branding = {};
  for (const name of ['primary', 'logo', 'theme', 'nav']) if (fragment.get(name)) branding[name] = fragment.get(name);
  if (Object.keys(branding).length) sessionStorage.setItem(BRANDING, JSON.stringify(branding));
  const token = fragment.get('portal');
  if (!token && !Object.keys(branding).length) return;
  if (token) {
    sessionStorage.setItem(KEY, token);
    sessionStorage.setItem(PORTAL, '1');
    me = null;
  }
  history.replaceState(null, '', `${location.pathname}#/endpoints`);
}

function applyBranding() {
  let branding = {};
  try {
    branding = JSON.parse(sessionStorage.getItem(BRANDING) || '{}');
  } catch (error) {
    branding = {};
  }
  const colour = /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.exec(branding.primary || '');
  if (colour) document.documentElement.style.setProperty('--primary', `#${colour[1]}`);
  document.body.classList.toggle('dark', branding.theme === 'dark');
  document.body.classList.toggle('no-nav', branding.nav === 'hidden');
  const logo = document.getElementById('logo');
  const url = /^https:\/\/[^\s]+$/.test(branding.logo || '') ? branding.logo : null;
  logo.hidden = !url;
  if (url) logo.src = url;
}

function inPortal() {
  return Boolean(me && me.portal);
}

/// A portal session limited to some endpoints: no new endpoint, no tenant-wide logs.
function limitedPortal() {
  return inPortal() && Array.isArray(me.portal.endpoints);
}

/// What a portal tab shows once its session is refused (expired or revoked): no key form,
/// since whoever holds the link has no key.
function portalEnded() {
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  show(h('h1', { text: 'Session ended' }),
    h('p', { class: 'error', role: 'alert', text: 'This portal session has expired or was revoked. Ask for a new link.' }));
}
