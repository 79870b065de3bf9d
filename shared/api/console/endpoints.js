// Endpoints: the list, the form (the catalog by family), an endpoint's page, a delivery's page.
'use strict';

// ---------- endpoints ----------

async function endpointsPage() {
  const page = await api('GET', '/v1/webhooks?limit=100');
  const rates = page.data.map(() => h('td', { text: '…' }));
  const rows = page.data.map((endpoint, n) => h('tr', {},
    h('td', {}, h('a', { href: `#/endpoints/${endpoint.id}`, text: endpoint.url })),
    h('td', { text: endpoint.description || '' }),
    h('td', { text: endpoint.enabled ? 'enabled' : 'disabled' }),
    h('td', { text: endpoint.failure_count }),
    rates[n]));
  show(
    h('h1', { text: 'Endpoints' }),
    may('webhooks:write') && !limitedPortal()
      ? h('div', { class: 'actions' }, h('a', { href: '#/endpoints/new', text: 'New endpoint' })) : null,
    rows.length
      ? h('table', {}, h('thead', {}, h('tr', {}, h('th', { text: 'URL' }), h('th', { text: 'Description' }),
        h('th', { text: 'State' }), h('th', { text: 'Failures' }), h('th', { text: 'Delivered, last 24 h' }))), h('tbody', {}, rows))
      : h('p', { class: 'notice', text: 'No endpoint yet.' }));
  // Filled in after the list shows, a few at a time.
  const queue = page.data.map((endpoint, n) => () => successRate(endpoint.id, rates[n]));
  const worker = async () => { while (queue.length) await queue.shift()(); };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/// The catalog grouped by family, in the catalog's order; archived types only if asked.
async function catalog(withArchived) {
  const types = (await api('GET', `/v1/event-types${withArchived ? '?include_archived=true' : ''}`)).data
    .filter((type) => withArchived || !type.archived);
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
  const patterns = [...families].flatMap(([family, types]) => [`${family}.*`, ...types.map((type) => type.type)]);
  const filters = filterEditor(existing ? existing.event_filters : {}, ['*', ...patterns]);
  const signing = h('select', { id: 'signing' },
    ['hmac_sha256', 'ed25519'].map((scheme) => h('option', { value: scheme, text: scheme })));
  const enabled = h('input', { id: 'enabled', type: 'checkbox', checked: existing ? existing.enabled : true });
  const search = h('input', { id: 'type-search', type: 'search', placeholder: 'Search event types' });
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
  // The search hides what does not match; "Select all" still takes the whole catalog.
  search.addEventListener('input', () => {
    const wanted = search.value.trim().toLowerCase();
    for (const group of groups) {
      let shown = 0;
      for (const label of group.querySelectorAll('label')) {
        label.hidden = Boolean(wanted) && !label.textContent.toLowerCase().includes(wanted);
        if (!label.hidden) shown += 1;
      }
      group.hidden = shown === 0;
    }
  });
  const setAll = (on) => () => boxes.forEach((box) => { box.checked = on; });
  errors.events = h('p', { class: 'error', id: 'events-error' });
  errors.event_filters = h('p', { class: 'error', id: 'event_filters-error' });
  filters.element.addEventListener('input', () => { errors.event_filters.textContent = ''; });
  const form = h('form', { class: 'card' },
    field('url', 'URL', url), field('description', 'Description', description),
    field('headers', 'Custom headers', headers), field('rate_limit', 'Rate limit', rate),
    h('fieldset', { 'aria-describedby': 'event_filters-error' }, h('legend', { text: 'Filters' }),
      h('p', { class: 'notice', text: 'Only events that match: by entity ids (no field), or by payload fields (every field must match one of its values).' }),
      filters.element, errors.event_filters),
    existing ? null : field('signing', 'Signing scheme', signing),
    h('div', { class: 'actions' }, enabled, h('label', { for: 'enabled', text: 'Enabled' })),
    h('fieldset', { 'aria-describedby': 'events-error' }, h('legend', { text: 'Event types' }),
      h('label', { for: 'type-search', text: 'Search event types' }), search,
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
    let eventFilters = {};
    try {
      eventFilters = filters.read();
    } catch (error) {
      errors.event_filters.textContent = `event_filters: ${error.message}`;
      return;
    }
    const body = {
      url: url.value.trim(),
      description: description.value.trim() || null,
      headers: headerMap,
      rate_limit: rate.value ? Number(rate.value) : null,
      event_filters: eventFilters,
      enabled: enabled.checked,
      events: boxes.filter((box) => box.checked).map((box) => box.value),
    };
    if (!existing) body.signing = signing.value;
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

/// An endpoint's page; its deliveries filtered and paged by `params` (the hash's).
async function endpointPage(id, params) {
  const endpoint = await api('GET', `/v1/webhooks/${id}`);
  const log = await deliveryLog(`#/endpoints/${id}`, `/v1/webhooks/${id}/deliveries`, params, false);
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
    const copied = h('span', { 'aria-live': 'polite' });
    const copy = async () => {
      try {
        await navigator.clipboard.writeText(secret.secret);
        copied.textContent = 'Copied.';
      } catch (error) {
        copied.textContent = 'The browser refused to copy: select the secret instead.';
      }
    };
    secretArea.replaceChildren(
      secret.secret ? h('p', {}, 'Secret: ', h('code', { text: secret.secret }), ' ',
        h('button', { type: 'button', class: 'secondary', onclick: copy, text: 'Copy secret' }), ' ', copied) : null,
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
    chart.refresh();
  });
  const dayAgo = new Date(Date.now() - 24 * 3600 * 1000 - new Date().getTimezoneOffset() * 60 * 1000);
  const recoverSince = h('input', { id: 'recover-since', type: 'datetime-local', value: dayAgo.toISOString().slice(0, 16) });
  const recovered = h('span', { 'aria-live': 'polite' });
  const recover = async () => {
    try {
      const since = new Date(recoverSince.value);
      if (Number.isNaN(since.getTime())) throw new Error('Choose a time.');
      await api('POST', `/v1/webhooks/${id}/recover`, { since: since.toISOString() });
      recovered.textContent = `Queued: every failed delivery since ${since.toLocaleString()} is sent again.`;
    } catch (error) {
      recovered.textContent = error.message;
    }
  };
  const toggle = act(async () => {
    await api('PATCH', `/v1/webhooks/${id}`, { enabled: !endpoint.enabled });
    route();
  });
  const remove = act(async () => {
    if (!confirm(`Delete ${endpoint.url}? Its pending deliveries are not sent.`)) return;
    await api('DELETE', `/v1/webhooks/${id}`);
    location.hash = '#/endpoints';
  });
  const chart = chartSection(id);
  show(
    h('h1', { text: endpoint.url }),
    h('div', { class: 'card' },
      h('p', {}, endpoint.description || h('span', { class: 'notice', text: 'No description' })),
      h('p', { text: `${endpoint.enabled ? 'Enabled' : `Disabled${endpoint.disabled_reason ? `: ${endpoint.disabled_reason}` : ''}`} · ${endpoint.failure_count} consecutive failures · signing ${endpoint.signing}` }),
      h('p', { class: 'mono', text: endpoint.id }),
      h('div', { class: 'actions' },
        may('webhooks:write') ? [
          h('button', { type: 'button', class: 'secondary', onclick: showSecret, text: 'Show secret' }),
          h('button', { type: 'button', class: 'secondary', onclick: rotate, text: 'Rotate secret' }),
          h('a', { href: `#/endpoints/${id}/edit`, text: 'Edit' }),
          h('button', { type: 'button', class: 'secondary', onclick: toggle, text: endpoint.enabled ? 'Disable' : 'Enable' }),
        ] : null,
        may('webhooks:delete') ? h('button', { type: 'button', class: 'danger', onclick: remove, text: 'Delete' }) : null),
      secretArea,
      may('webhooks:write')
        ? h('div', { class: 'actions' }, picker, h('button', { type: 'button', onclick: sendTest, text: 'Send test' }), testResult)
        : testResult,
      may('webhooks:write')
        ? h('div', { class: 'actions' },
          h('label', { for: 'recover-since', text: 'Recover failed deliveries since' }), recoverSince,
          h('button', { type: 'button', class: 'secondary', onclick: recover, text: 'Recover' }), recovered)
        : null),
    h('h2', { text: 'Deliveries over time' }),
    chart,
    h('h2', { text: 'Deliveries' }),
    log);
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
      may('webhooks:write') ? h('div', { class: 'actions' }, h('button', { type: 'button', onclick: retry, text: 'Retry' }), result) : null),
    h('h2', { text: 'Payload' }),
    h('pre', { class: 'card mono', text: delivery.payload === null ? '(no longer kept)' : JSON.stringify(delivery.payload, null, 2) }),
    delivery.request_headers ? [
      h('h2', { text: 'Headers sent' }),
      h('p', {
        class: 'notice',
        text: delivery.request_headers.exact
          ? `By the last attempt, at ${delivery.request_headers.at}.`
          : `The endpoint changed after the last attempt (${delivery.request_headers.at}): these are what it sends now.`,
      }),
      h('table', { class: 'mono' }, h('tbody', {}, delivery.request_headers.headers.map(([name, value]) =>
        h('tr', {}, h('th', { scope: 'row', text: name }), h('td', { text: value }))))),
    ] : null,
    h('h2', { text: 'Attempts' }),
    h('table', {}, h('thead', {}, h('tr', {}, ['At', 'Took', 'HTTP', 'Answer or error'].map((t) => h('th', { text: t })))), h('tbody', {}, attempts)));
}
