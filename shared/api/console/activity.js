// What happened and what may happen: the delivery log, the event log, the event types.
'use strict';

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

/// What a list of deliveries leaves out, when the deployment keeps failures only
/// (`--history failures`); nothing otherwise.
function historyNote() {
  if (!me || me.history !== 'failures') return null;
  return h('p', { class: 'notice', id: 'history-note',
    text: 'This service keeps failures only: a delivery that succeeded at its first attempt is counted in its endpoint\'s chart but not listed. Deliveries that needed a retry, or failed, are listed with all their attempts.' });
}

/// A delivery log at `route` (the page's hash) from `path` (its API route): the status and
/// event type filters, 50 deliveries, "Older deliveries". Answers the page's parts.
async function deliveryLog(route, path, params, withEndpoint) {
  const query = new URLSearchParams({ limit: '50' });
  for (const name of ['status', 'event_type', 'cursor']) if (params.get(name)) query.set(name, params.get(name));
  const page = await api('GET', `${path}?${query}`);
  const types = [...(await catalog()).values()].flat();
  const status = h('select', { id: 'status-filter' }, h('option', { value: '', text: 'Any status' }),
    STATUSES.map((s) => h('option', { value: s, text: s, selected: s === params.get('status') })));
  const type = h('select', { id: 'delivery-type-filter' }, h('option', { value: '', text: 'Every type' }),
    types.map((t) => h('option', { value: t.type, text: t.type, selected: t.type === params.get('event_type') })));
  const apply = () => {
    const chosen = new URLSearchParams();
    if (status.value) chosen.set('status', status.value);
    if (type.value) chosen.set('event_type', type.value);
    location.hash = `${route}${chosen.size ? `?${chosen}` : ''}`;
  };
  status.addEventListener('change', apply);
  type.addEventListener('change', apply);
  const older = new URLSearchParams(query);
  older.delete('limit');
  if (page.next_cursor) older.set('cursor', page.next_cursor);
  const rows = deliveryRows(page.data, withEndpoint);
  const filtered = params.get('status') || params.get('event_type');
  return [
    h('div', { class: 'actions' },
      h('label', { for: 'status-filter', text: 'Status' }), status,
      h('label', { for: 'delivery-type-filter', text: 'Event type' }), type),
    historyNote(),
    rows.length ? deliveryTable(rows, withEndpoint) : h('p', { class: 'notice', text: filtered ? 'No delivery matches.' : historyNote() ? 'No delivery kept yet.' : 'No delivery yet.' }),
    page.next_cursor ? h('p', {}, h('a', { href: `${route}?${older}`, text: 'Older deliveries' })) : null,
  ];
}

async function deliveriesPage(params) {
  show(h('h1', { text: 'Deliveries' }), await deliveryLog('#/deliveries', '/v1/deliveries', params, true));
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
  const rows = deliveryRows(event.deliveries, true);
  show(
    h('h1', { text: `Event ${event.id}` }),
    h('p', { text: `${event.type}, received ${event.created_at}` }),
    h('h2', { text: 'Payload' }),
    h('pre', { class: 'card mono', text: JSON.stringify(event.payload, null, 2) }),
    h('h2', { text: 'Deliveries' }),
    historyNote(),
    rows.length ? deliveryTable(rows, true) : h('p', { class: 'notice', text: historyNote() ? 'No delivery of it is kept.' : 'No endpoint took it.' }));
}

async function eventTypesPage() {
  const families = await catalog(true);
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
  const heading = h('h2', { id: 'type-form-heading', text: 'New event type' });
  const submit = h('button', { type: 'submit', text: 'Create event type' });
  /// The type being edited in the form, or null for a new one.
  let editing = null;
  const editType = (type) => () => {
    editing = type.type;
    heading.textContent = `Edit ${type.type}`;
    submit.textContent = 'Save event type';
    name.value = type.type;
    name.disabled = true;
    description.value = type.description || '';
    schema.value = type.schema ? JSON.stringify(type.schema, null, 2) : '';
    description.focus();
  };
  const form = h('form', { class: 'card', 'aria-labelledby': 'type-form-heading' },
    heading,
    h('label', { for: 'type-name', text: 'Name' }), name,
    h('label', { for: 'type-description', text: 'Description' }), description,
    h('label', { for: 'type-schema', text: 'Payload schema' }), schema,
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    let parsed;
    try {
      parsed = schema.value.trim() ? JSON.parse(schema.value) : undefined;
    } catch (error) {
      result.textContent = `Payload schema: not JSON (${error.message})`;
      return;
    }
    if (editing) {
      // A schema left empty is taken away; the description is kept as written.
      const patch = { description: description.value.trim(), schema: parsed === undefined ? null : parsed };
      change(() => api('PATCH', `/v1/event-types/${encodeURIComponent(editing)}`, patch))();
      return;
    }
    const body = { name: name.value.trim(), description: description.value.trim() || undefined, schema: parsed };
    change(() => api('POST', '/v1/event-types', body))();
  });
  const own = (type) => type.source === 'tenant' && may('event_types:write')
    ? h('span', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', 'aria-label': `Edit ${type.type}`, text: 'Edit', onclick: editType(type) }),
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
    may('event_types:write') ? form : null);
}
