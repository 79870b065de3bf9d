// For admin keys: API keys and dead letters.
'use strict';

// ---------- admin: API keys and dead letters ----------

const SCOPES = ['webhooks:read', 'webhooks:write', 'webhooks:delete', 'events:write', 'event_types:write', 'portal:write', 'admin'];

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
