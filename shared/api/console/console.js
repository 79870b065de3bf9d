// Signing in, and which page a URL shows.
'use strict';

// ---------- signing in ----------

function signOut(reason) {
  const portal = sessionStorage.getItem(PORTAL);
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(PORTAL);
  me = null;
  history.replaceState(null, '', location.pathname);
  // A refused portal session ends; signing out of one asks for a key like any tab.
  if (portal && reason) return portalEnded();
  signInPage(reason);
}

function signInPage(reason) {
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  const field = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', required: true });
  const message = h('p', { class: 'error', role: 'alert', text: reason || '' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'sign-in-heading' },
    h('h1', { id: 'sign-in-heading', text: 'Sign in' }),
    h('label', { for: 'api-key', text: 'API key' }), field, message,
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Sign in' })),
    h('p', { class: 'notice', text: 'The key stays in this tab (sessionStorage) and is sent only to this service.' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, field.value.trim());
    try {
      await api('GET', '/v1/webhooks?limit=1');
      route();
    } catch (error) {
      sessionStorage.removeItem(KEY);
      message.textContent = error.status === 401 ? 'That API key was not accepted.' : error.message;
    }
  });
  show(form);
}

// ---------- routing ----------

async function route() {
  if (!sessionStorage.getItem(KEY)) return signInPage();
  document.getElementById('nav').hidden = false;
  document.getElementById('sign-out').hidden = false;
  if (me === null) {
    try {
      me = await api('GET', '/v1/me');
    } catch (error) {
      if (!sessionStorage.getItem(KEY)) return null; // refused: signed out already
      return signInPage(error.message);
    }
  }
  document.querySelectorAll('nav .admin').forEach((link) => { link.hidden = !may('admin'); });
  document.querySelectorAll('nav .tenant-wide').forEach((link) => { link.hidden = limitedPortal(); });
  const [path, search] = (location.hash.replace(/^#/, '') || '/endpoints').split('?');
  const parts = path.split('/').filter(Boolean);
  const params = new URLSearchParams(search || '');
  try {
    if (parts[0] === 'endpoints' && parts.length === 1) await endpointsPage();
    else if (parts[0] === 'endpoints' && parts[1] === 'new') await endpointForm(null);
    else if (parts[0] === 'endpoints' && parts[2] === 'edit') await endpointForm(await api('GET', `/v1/webhooks/${parts[1]}`));
    else if (parts[0] === 'endpoints' && parts[2] === 'deliveries') await deliveryPage(parts[1], parts[3]);
    else if (parts[0] === 'endpoints') await endpointPage(parts[1], params);
    else if (parts[0] === 'deliveries') await deliveriesPage(params);
    else if (parts[0] === 'events' && parts.length === 1) await eventsPage(params.get('type'), params.get('cursor'));
    else if (parts[0] === 'events') await eventPage(decodeURIComponent(parts[1]));
    else if (parts[0] === 'event-types') await eventTypesPage();
    else if (parts[0] === 'api-keys') await apiKeysPage();
    else if (parts[0] === 'dead-letters') await deadLettersPage();
    else show(h('h1', { text: 'Not found' }), h('p', {}, h('a', { href: '#/endpoints', text: 'Endpoints' })));
  } catch (error) {
    if (sessionStorage.getItem(KEY)) show(h('h1', { text: 'Something went wrong' }), failure(error));
  }
}

document.addEventListener('DOMContentLoaded', () => {
  takePortalLink();
  applyBranding();
  document.getElementById('sign-out').addEventListener('click', () => signOut());
  window.addEventListener('hashchange', route);
  route();
});
