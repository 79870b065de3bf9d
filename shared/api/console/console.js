// The webhooks console: a page over the public API, with the caller's own key. No build
// step, no library: DOM built with createElement (API data is never parsed as HTML).
'use strict';

const KEY = 'webhooks.key';
/// Whether this key may manage keys and dead letters: asked once per sign-in.
let admin = null;
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

// ---------- signing in ----------

function signOut(reason) {
  sessionStorage.removeItem(KEY);
  admin = null;
  location.hash = '';
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

// ---------- endpoints ----------

async function endpointsPage() {
  const page = await api('GET', '/v1/webhooks?limit=100');
  const rows = page.data.map((endpoint) => h('tr', {},
    h('td', {}, h('a', { href: `#/endpoints/${endpoint.id}`, text: endpoint.url })),
    h('td', { text: endpoint.description || '' }),
    h('td', { text: endpoint.enabled ? 'enabled' : 'disabled' }),
    h('td', { text: endpoint.failure_count })));
  show(
    h('h1', { text: 'Endpoints' }),
    h('div', { class: 'actions' }, h('a', { href: '#/endpoints/new', text: 'New endpoint' })),
    rows.length
      ? h('table', {}, h('thead', {}, h('tr', {}, h('th', { text: 'URL' }), h('th', { text: 'Description' }),
        h('th', { text: 'State' }), h('th', { text: 'Failures' }))), h('tbody', {}, rows))
      : h('p', { class: 'notice', text: 'No endpoint yet.' }));
}

/// The catalog grouped by family, in the catalog's order.
async function catalog() {
  const types = (await api('GET', '/v1/event-types')).data.filter((type) => !type.archived);
  const families = new Map();
  for (const type of types) {
    const family = type.family || type.type.split('.')[0];
    if (!families.has(family)) families.set(family, []);
    families.get(family).push(type);
  }
  return families;
}

async function endpointForm(existing) {
  const families = await catalog();
  const chosen = new Set(existing ? existing.events : []);
  const errors = {};
  const field = (id, label, input) => {
    errors[id] = h('p', { class: 'error', id: `${id}-error` });
    input.setAttribute('aria-describedby', `${id}-error`);
    input.addEventListener('input', () => { errors[id].textContent = ''; });
    return [h('label', { for: id, text: label }), input, errors[id]];
  };
  const url = h('input', { id: 'url', type: 'url', required: true, value: existing ? existing.url : '' });
  const description = h('input', { id: 'description', type: 'text', value: existing ? existing.description || '' : '' });
  const headerLines = existing ? Object.entries(existing.headers).map(([name, value]) => `${name}: ${value}`).join('\n') : '';
  const headers = h('textarea', { id: 'headers', placeholder: 'X-Team: payments' });
  headers.value = headerLines;
  const rate = h('input', { id: 'rate_limit', type: 'number', min: '1', max: '1000', value: existing && existing.rate_limit ? existing.rate_limit : '' });
  const boxes = [];
  const groups = [...families].map(([family, types]) => {
    const own = types.map((type) => h('input', {
      type: 'checkbox', value: type.type,
      checked: chosen.has(type.type) || chosen.has('*') || chosen.has(`${family}.*`),
    }));
    boxes.push(...own);
    const selectFamily = () => own.forEach((box) => { box.checked = true; });
    return h('fieldset', { class: 'family' },
      h('legend', {}, family, ' ', h('button', { type: 'button', class: 'link', onclick: selectFamily, text: `Select all ${family}.*` })),
      types.map((type, n) => h('label', { title: type.description || '' }, own[n], type.type)));
  });
  const setAll = (on) => () => boxes.forEach((box) => { box.checked = on; });
  errors.events = h('p', { class: 'error', id: 'events-error' });
  const form = h('form', { class: 'card' },
    field('url', 'URL', url), field('description', 'Description', description),
    field('headers', 'Custom headers', headers), field('rate_limit', 'Rate limit', rate),
    h('fieldset', { 'aria-describedby': 'events-error' }, h('legend', { text: 'Event types' }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: setAll(true), text: 'Select all' }),
        h('button', { type: 'button', class: 'secondary', onclick: setAll(false), text: 'Deselect all' })),
      groups, errors.events),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: existing ? 'Save' : 'Create endpoint' })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    Object.values(errors).forEach((error) => { error.textContent = ''; });
    const headerMap = {};
    for (const line of headers.value.split('\n').map((l) => l.trim()).filter(Boolean)) {
      const at = line.indexOf(':');
      if (at < 1) { errors.headers.textContent = `"${line}" is not "Name: value"`; return; }
      headerMap[line.slice(0, at).trim()] = line.slice(at + 1).trim();
    }
    const body = {
      url: url.value.trim(),
      description: description.value.trim() || null,
      headers: headerMap,
      rate_limit: rate.value ? Number(rate.value) : null,
      events: boxes.filter((box) => box.checked).map((box) => box.value),
    };
    try {
      const saved = existing
        ? await api('PATCH', `/v1/webhooks/${existing.id}`, body)
        : await api('POST', '/v1/webhooks', Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null)));
      location.hash = `#/endpoints/${saved.id}`;
    } catch (error) {
      const shown = error.details.length ? error.details : [{ field: 'url', message: error.message }];
      for (const detail of shown) {
        const key = Object.keys(errors).find((name) => detail.field === name || detail.field.startsWith(`${name}.`) || detail.field.startsWith(`${name}[`));
        (errors[key] || errors.url).textContent = `${detail.field}: ${detail.message}`;
      }
    }
  });
  show(h('h1', { text: existing ? 'Edit endpoint' : 'New endpoint' }), form);
}

async function endpointPage(id) {
  const endpoint = await api('GET', `/v1/webhooks/${id}`);
  const deliveries = await api('GET', `/v1/webhooks/${id}/deliveries?limit=50`);
  const secretArea = h('div', { class: 'secret', 'aria-live': 'polite' });
  const testResult = h('span', { 'aria-live': 'polite' });
  const concrete = endpoint.events.filter((type) => !type.includes('*'));
  const picker = h('select', { id: 'test-type', 'aria-label': 'Test event type' },
    (concrete.length ? concrete : ['webhook.test']).map((type) => h('option', { value: type, text: type })));
  const act = (work) => async () => {
    try { await work(); } catch (error) { testResult.textContent = error.message; }
  };
  const showSecret = act(async () => {
    const secret = await api('GET', `/v1/webhooks/${id}/secret`);
    secretArea.replaceChildren(
      secret.secret ? h('p', {}, 'Secret: ', h('code', { text: secret.secret })) : null,
      secret.standard_webhooks_secret ? h('p', {}, 'Standard Webhooks: ', h('code', { text: secret.standard_webhooks_secret })) : null,
      secret.public_key ? h('p', {}, 'Public key: ', h('code', { text: secret.public_key })) : null);
  });
  const rotate = act(async () => {
    if (!confirm('Rotate secret? The old one keeps signing for 24 hours.')) return;
    await api('POST', `/v1/webhooks/${id}/secret/rotate`, {});
    await showSecret();
  });
  const sendTest = act(async () => {
    testResult.textContent = 'Sending…';
    const outcome = await api('POST', `/v1/webhooks/${id}/test`, { event_type: picker.value });
    testResult.textContent = outcome.delivered
      ? `Delivered: HTTP ${outcome.http_status} in ${outcome.response_time_ms} ms`
      : `Failed: ${outcome.error || `HTTP ${outcome.http_status}`}`;
  });
  const toggle = act(async () => {
    await api('PATCH', `/v1/webhooks/${id}`, { enabled: !endpoint.enabled });
    route();
  });
  const remove = act(async () => {
    if (!confirm(`Delete ${endpoint.url}? Its pending deliveries are not sent.`)) return;
    await api('DELETE', `/v1/webhooks/${id}`);
    location.hash = '#/endpoints';
  });
  const rows = deliveryRows(deliveries.data, false);
  show(
    h('h1', { text: endpoint.url }),
    h('div', { class: 'card' },
      h('p', {}, endpoint.description || h('span', { class: 'notice', text: 'No description' })),
      h('p', { text: `${endpoint.enabled ? 'Enabled' : `Disabled${endpoint.disabled_reason ? `: ${endpoint.disabled_reason}` : ''}`} · ${endpoint.failure_count} consecutive failures · signing ${endpoint.signing}` }),
      h('p', { class: 'mono', text: endpoint.id }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: showSecret, text: 'Show secret' }),
        h('button', { type: 'button', class: 'secondary', onclick: rotate, text: 'Rotate secret' }),
        h('a', { href: `#/endpoints/${id}/edit`, text: 'Edit' }),
        h('button', { type: 'button', class: 'secondary', onclick: toggle, text: endpoint.enabled ? 'Disable' : 'Enable' }),
        h('button', { type: 'button', class: 'danger', onclick: remove, text: 'Delete' })),
      secretArea,
      h('div', { class: 'actions' }, picker, h('button', { type: 'button', onclick: sendTest, text: 'Send test' }), testResult)),
    h('h2', { text: 'Deliveries' }),
    rows.length ? deliveryTable(rows, false) : h('p', { class: 'notice', text: 'No delivery yet.' }));
}

async function deliveryPage(endpointId, deliveryId) {
  const delivery = await api('GET', `/v1/webhooks/${endpointId}/deliveries/${deliveryId}`);
  const result = h('p', { 'aria-live': 'polite' });
  const retry = async () => {
    try {
      const queued = await api('POST', `/v1/webhooks/${endpointId}/deliveries/${deliveryId}/retry`, {});
      result.textContent = `Queued again: ${queued.status}`;
    } catch (error) {
      result.textContent = error.message;
    }
  };
  const attempts = (delivery.attempt_log || []).map((attempt) => h('tr', {},
    h('td', { text: attempt.at }), h('td', { text: `${attempt.duration_ms} ms` }),
    h('td', { text: attempt.http_status === null ? '' : attempt.http_status }),
    h('td', { class: 'mono', text: attempt.error || attempt.response_body || '' })));
  show(
    h('h1', { text: `Delivery ${delivery.id}` }),
    h('p', {}, h('a', { href: `#/endpoints/${endpointId}`, text: 'Back to the endpoint' })),
    h('div', { class: 'card' },
      h('p', {}, 'Status: ', h('span', { class: `status-${delivery.status}`, text: delivery.status })),
      h('p', { text: `Event ${delivery.event_id} (${delivery.event_type})` }),
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: retry, text: 'Retry' }), result)),
    h('h2', { text: 'Payload' }),
    h('pre', { class: 'card mono', text: delivery.payload === null ? '(no longer kept)' : JSON.stringify(delivery.payload, null, 2) }),
    h('h2', { text: 'Attempts' }),
    h('table', {}, h('thead', {}, h('tr', {}, ['At', 'Took', 'HTTP', 'Answer or error'].map((t) => h('th', { text: t })))), h('tbody', {}, attempts)));
}

// ---------- the delivery log ----------

const STATUSES = ['pending', 'delivered', 'failed'];

function deliveryRows(deliveries, withEndpoint) {
  return deliveries.map((delivery) => h('tr', {},
    h('td', {}, h('span', { class: `status-${delivery.status}`, text: delivery.status })),
    h('td', { text: delivery.event_type }),
    withEndpoint ? h('td', {}, h('a', { href: `#/endpoints/${delivery.endpoint_id}`, text: delivery.endpoint_id })) : null,
    h('td', { text: delivery.created_at }),
    h('td', { text: delivery.http_status === null ? '' : delivery.http_status }),
    h('td', { text: delivery.attempts }),
    h('td', {}, h('a', { href: `#/endpoints/${delivery.endpoint_id}/deliveries/${delivery.id}`, 'aria-label': `Delivery ${delivery.id}`, text: 'Details' }))));
}

function deliveryTable(rows, withEndpoint) {
  const heads = ['Status', 'Event type', withEndpoint ? 'Endpoint' : null, 'Created', 'HTTP', 'Attempts', ''].filter((t) => t !== null);
  return h('table', {}, h('thead', {}, h('tr', {}, heads.map((t) => h('th', { text: t })))), h('tbody', {}, rows));
}

async function deliveriesPage(params) {
  const query = new URLSearchParams({ limit: '50' });
  for (const name of ['status', 'event_type', 'cursor']) if (params.get(name)) query.set(name, params.get(name));
  const page = await api('GET', `/v1/deliveries?${query}`);
  const types = [...(await catalog()).values()].flat();
  const status = h('select', { id: 'status-filter' }, h('option', { value: '', text: 'Any status' }),
    STATUSES.map((s) => h('option', { value: s, text: s, selected: s === params.get('status') })));
  const type = h('select', { id: 'delivery-type-filter' }, h('option', { value: '', text: 'Every type' }),
    types.map((t) => h('option', { value: t.type, text: t.type, selected: t.type === params.get('event_type') })));
  const apply = () => {
    const chosen = new URLSearchParams();
    if (status.value) chosen.set('status', status.value);
    if (type.value) chosen.set('event_type', type.value);
    location.hash = `#/deliveries${chosen.size ? `?${chosen}` : ''}`;
  };
  status.addEventListener('change', apply);
  type.addEventListener('change', apply);
  const older = new URLSearchParams(query);
  older.delete('limit');
  if (page.next_cursor) older.set('cursor', page.next_cursor);
  const rows = deliveryRows(page.data, true);
  show(
    h('h1', { text: 'Deliveries' }),
    h('div', { class: 'actions' },
      h('label', { for: 'status-filter', text: 'Status' }), status,
      h('label', { for: 'delivery-type-filter', text: 'Event type' }), type),
    rows.length ? deliveryTable(rows, true) : h('p', { class: 'notice', text: 'No delivery matches.' }),
    page.next_cursor ? h('p', {}, h('a', { href: `#/deliveries?${older}`, text: 'Older deliveries' })) : null);
}

// ---------- events and event types ----------

async function eventsPage(type, cursor) {
  const query = new URLSearchParams({ limit: '50' });
  if (type) query.set('type', type);
  if (cursor) query.set('cursor', cursor);
  const page = await api('GET', `/v1/events?${query}`);
  const families = await catalog();
  const filter = h('select', { id: 'event-type-filter' }, h('option', { value: '', text: 'Every type' }),
    [...families.values()].flat().map((t) => h('option', { value: t.type, text: t.type, selected: t.type === type })));
  filter.addEventListener('change', () => { location.hash = filter.value ? `#/events?type=${encodeURIComponent(filter.value)}` : '#/events'; });
  const rows = page.data.map((event) => h('tr', {},
    h('td', {}, h('a', { href: `#/events/${encodeURIComponent(event.id)}`, text: event.id })),
    h('td', { text: event.type }),
    h('td', { text: event.created_at })));
  const next = page.next_cursor
    ? h('a', { href: `#/events?${new URLSearchParams({ ...(type ? { type } : {}), cursor: page.next_cursor })}`, text: 'Older events' })
    : null;
  show(
    h('h1', { text: 'Events' }),
    h('div', { class: 'actions' }, h('label', { for: 'event-type-filter', text: 'Event type' }), filter),
    rows.length
      ? h('table', {}, h('thead', {}, h('tr', {}, ['Event', 'Type', 'Received'].map((t) => h('th', { text: t })))), h('tbody', {}, rows))
      : h('p', { class: 'notice', text: type ? `No ${type} event.` : 'No event yet.' }),
    h('p', {}, next));
}

async function eventPage(id) {
  const event = await api('GET', `/v1/events/${encodeURIComponent(id)}`);
  const rows = event.deliveries.map((delivery) => h('tr', {},
    h('td', {}, h('span', { class: `status-${delivery.status}`, text: delivery.status })),
    h('td', {}, h('a', { href: `#/endpoints/${delivery.endpoint_id}`, text: delivery.endpoint_id })),
    h('td', { text: delivery.attempts }),
    h('td', {}, h('a', { href: `#/endpoints/${delivery.endpoint_id}/deliveries/${delivery.id}`, 'aria-label': `Delivery ${delivery.id}`, text: 'Details' }))));
  show(
    h('h1', { text: `Event ${event.id}` }),
    h('p', { text: `${event.type}, received ${event.created_at}` }),
    h('h2', { text: 'Payload' }),
    h('pre', { class: 'card mono', text: JSON.stringify(event.payload, null, 2) }),
    h('h2', { text: 'Deliveries' }),
    rows.length
      ? h('table', {}, h('thead', {}, h('tr', {}, ['Status', 'Endpoint', 'Attempts', ''].map((t) => h('th', { text: t })))), h('tbody', {}, rows))
      : h('p', { class: 'notice', text: 'No endpoint took it.' }));
}

async function eventTypesPage() {
  const every = (await api('GET', '/v1/event-types?include_archived=true')).data;
  const families = new Map();
  for (const type of every) {
    const family = type.family || type.type.split('.')[0];
    if (!families.has(family)) families.set(family, []);
    families.get(family).push(type);
  }
  const result = h('p', { class: 'error', role: 'alert' });
  const change = (work) => async () => {
    result.textContent = '';
    try {
      await work();
      await eventTypesPage();
    } catch (failed) {
      result.textContent = failed.status === 403 ? 'This key may not change event types.' : failed.message;
    }
  };
  const name = h('input', { id: 'type-name', type: 'text', required: true, placeholder: 'invoice.paid' });
  const description = h('input', { id: 'type-description', type: 'text' });
  const schema = h('textarea', { id: 'type-schema', placeholder: '{"type": "object", "required": ["id"]}' });
  const form = h('form', { class: 'card' },
    h('h2', { text: 'New event type' }),
    h('label', { for: 'type-name', text: 'Name' }), name,
    h('label', { for: 'type-description', text: 'Description' }), description,
    h('label', { for: 'type-schema', text: 'Payload schema' }), schema,
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Create event type' })));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    let parsed;
    try {
      parsed = schema.value.trim() ? JSON.parse(schema.value) : undefined;
    } catch (error) {
      result.textContent = `Payload schema: not JSON (${error.message})`;
      return;
    }
    const body = { name: name.value.trim(), description: description.value.trim() || undefined, schema: parsed };
    change(() => api('POST', '/v1/event-types', body))();
  });
  const own = (type) => type.source === 'tenant'
    ? h('span', { class: 'actions' },
      h('button', {
        type: 'button', class: 'secondary', 'aria-label': `${type.archived ? 'Unarchive' : 'Archive'} ${type.type}`,
        text: type.archived ? 'Unarchive' : 'Archive',
        onclick: change(() => api('PATCH', `/v1/event-types/${encodeURIComponent(type.type)}`, { archived: !type.archived })),
      }),
      h('button', {
        type: 'button', class: 'danger', 'aria-label': `Delete ${type.type}`, text: 'Delete',
        onclick: change(async () => {
          if (confirm(`Delete ${type.type}?`)) await api('DELETE', `/v1/event-types/${encodeURIComponent(type.type)}`);
        }),
      }))
    : null;
  show(
    h('h1', { text: 'Event types' }),
    result,
    [...families].map(([family, types]) => h('section', { class: 'card', 'aria-labelledby': `family-${family}` },
      h('h2', { id: `family-${family}`, text: family }),
      h('dl', {}, types.map((type) => [
        h('dt', { class: 'mono', text: type.type }),
        h('dd', {}, h('span', { text: `${type.description || ''}${type.source === 'tenant' ? ' (your own)' : ''}${type.archived ? ' (archived)' : ''}` }),
          type.schema ? h('details', {}, h('summary', { text: 'Payload schema' }), h('pre', { class: 'mono', text: JSON.stringify(type.schema, null, 2) })) : null,
          own(type)),
      ])))),
    form);
}

// ---------- admin: API keys and dead letters ----------

const SCOPES = ['webhooks:read', 'webhooks:write', 'webhooks:delete', 'events:write', 'event_types:write', 'admin'];

async function apiKeysPage() {
  const keys = await api('GET', '/v1/api-keys');
  const minted = h('div', { 'aria-live': 'polite' });
  const name = h('input', { id: 'key-name', type: 'text', required: true, maxlength: '100' });
  const tenant = h('input', { id: 'key-tenant', type: 'text', placeholder: 'yours when empty' });
  const scopes = SCOPES.map((scope) => h('input', { type: 'checkbox', value: scope }));
  const error = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'card' },
    h('h2', { text: 'New API key' }),
    h('label', { for: 'key-name', text: 'Name' }), name,
    h('label', { for: 'key-tenant', text: 'Tenant' }), tenant,
    h('fieldset', { class: 'family' }, h('legend', { text: 'Scopes' }),
      scopes.map((box) => h('label', {}, box, box.value))),
    error,
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Create key' })));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const body = { name: name.value.trim(), scopes: scopes.filter((box) => box.checked).map((box) => box.value) };
    if (tenant.value.trim()) body.tenant = tenant.value.trim();
    try {
      const created = await api('POST', '/v1/api-keys', body);
      await apiKeysPage();
      main().querySelector('[aria-live]').replaceChildren(h('p', { class: 'card' },
        `The key of ${created.name}, shown this once: `, h('code', { class: 'secret', text: created.key })));
    } catch (failed) {
      error.textContent = failed.message;
    }
  });
  const rows = keys.data.map((key) => h('tr', {},
    h('td', { text: key.name }), h('td', { class: 'mono', text: `${key.prefix}…` }), h('td', { text: key.tenant }),
    h('td', { text: key.scopes.join(', ') }), h('td', { text: key.created_at }),
    h('td', {}, h('button', {
      type: 'button', class: 'danger', 'aria-label': `Revoke ${key.name} (${key.prefix}…)`, text: 'Revoke',
      onclick: async () => {
        if (!confirm(`Revoke ${key.name}? Requests with it are refused at once.`)) return;
        try { await api('DELETE', `/v1/api-keys/${key.id}`); await apiKeysPage(); } catch (failed) { error.textContent = failed.message; }
      },
    }))));
  show(h('h1', { text: 'API keys' }), minted, form,
    h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Key', 'Tenant', 'Scopes', 'Created', ''].map((t) => h('th', { text: t })))), h('tbody', {}, rows)));
}

async function deadLettersPage() {
  const queues = await Promise.all(['events', 'deliveries'].map((queue) => api('GET', `/v1/dead-letters/${queue}`)));
  show(h('h1', { text: 'Dead letters' }),
    h('p', { class: 'notice', text: 'What the pipeline could not handle, with its reason; a receiver\'s failures are failed deliveries instead.' }),
    queues.map((queue) => {
      const result = h('span', { 'aria-live': 'polite' });
      const redrive = async () => {
        try {
          const moved = await api('POST', `/v1/dead-letters/${queue.queue}/redrive`, {});
          result.textContent = `Moved ${moved.moved} back; ${moved.remaining} left`;
        } catch (failed) {
          result.textContent = failed.message;
        }
      };
      return h('section', { class: 'card', 'aria-labelledby': `dlq-${queue.queue}` },
        h('h2', { id: `dlq-${queue.queue}`, text: `The ${queue.queue} queue: ${queue.depth} waiting` }),
        queue.data.length
          ? h('table', {}, h('thead', {}, h('tr', {}, ['Sent', 'Reason', 'Message'].map((t) => h('th', { text: t })))),
            h('tbody', {}, queue.data.map((letter) => h('tr', {},
              h('td', { text: letter.sent_at }), h('td', { text: letter.reason || '(moved by the queue\'s redrive)' }),
              h('td', { class: 'mono', text: letter.body.slice(0, 300) })))))
          : null,
        h('div', { class: 'actions' },
          h('button', { type: 'button', class: 'secondary', onclick: redrive, disabled: queue.depth === 0, text: `Redrive ${queue.queue}` }),
          result));
    }));
}

// ---------- routing ----------

async function route() {
  if (!sessionStorage.getItem(KEY)) return signInPage();
  document.getElementById('nav').hidden = false;
  document.getElementById('sign-out').hidden = false;
  if (admin === null) {
    admin = await api('GET', '/v1/api-keys').then(() => true, () => false);
  }
  document.querySelectorAll('nav .admin').forEach((link) => { link.hidden = !admin; });
  const [path, search] = (location.hash.replace(/^#/, '') || '/endpoints').split('?');
  const parts = path.split('/').filter(Boolean);
  const params = new URLSearchParams(search || '');
  try {
    if (parts[0] === 'endpoints' && parts.length === 1) await endpointsPage();
    else if (parts[0] === 'endpoints' && parts[1] === 'new') await endpointForm(null);
    else if (parts[0] === 'endpoints' && parts[2] === 'edit') await endpointForm(await api('GET', `/v1/webhooks/${parts[1]}`));
    else if (parts[0] === 'endpoints' && parts[2] === 'deliveries') await deliveryPage(parts[1], parts[3]);
    else if (parts[0] === 'endpoints') await endpointPage(parts[1]);
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
  document.getElementById('sign-out').addEventListener('click', () => signOut());
  window.addEventListener('hashchange', route);
  route();
});
