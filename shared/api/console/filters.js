// The endpoint form's filter editor: `event_filters` as rows of (type or wildcard, payload
// field or none, values), one row a condition. Rows of one type with no field are its entity
// ids; rows with a field are its payload conditions, all of which must hold (docs/filters.md).
'use strict';

/// A value as typed: a JSON literal (`7`, `true`, `"7"`) if it is one, else the text.
function filterValue(text, asEntity) {
  if (asEntity) return /^\d+$/.test(text) ? Number(text) : text;
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === 'object' ? text : value;
  } catch (error) {
    return text;
  }
}

/// The editor for `existing` (an endpoint's `event_filters`), offering `types` (names and
/// wildcards) to pick from. Answers `{ element, read }`; `read()` answers the
/// `event_filters` object, or throws an Error saying what is wrong.
function filterEditor(existing, types) {
  const rows = h('div', { class: 'filter-rows' });
  const options = h('datalist', { id: 'filter-types' }, types.map((type) => h('option', { value: type })));
  let made = 0;
  const addRow = (type, field, values) => {
    made += 1;
    const n = made;
    const input = (what, value, placeholder) => h('input', {
      type: 'text', 'aria-label': `Filter ${n} ${what}`, value: value || '', placeholder,
      list: what === 'type' ? 'filter-types' : null,
    });
    const row = h('div', { class: 'filter-row' },
      input('type', type, 'run.* or run.failed'),
      input('field', field, 'payload field, e.g. status (empty: entity ids)'),
      input('values', values, 'values, comma-separated'));
    row.append(h('button', {
      type: 'button', class: 'secondary', 'aria-label': `Remove filter ${n}`, text: 'Remove',
      onclick: () => row.remove(),
    }));
    rows.append(row);
  };
  for (const [type, filter] of Object.entries(existing || {})) {
    if (Array.isArray(filter)) addRow(type, '', filter.join(', '));
    else for (const [field, values] of Object.entries(filter)) addRow(type, field, values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', '));
  }
  const read = () => {
    const filters = {};
    for (const row of rows.querySelectorAll('.filter-row')) {
      const [type, field, values] = [...row.querySelectorAll('input')].map((input) => input.value.trim());
      if (!type && !field && !values) continue;
      if (!type) throw new Error(`${row.querySelector('input').getAttribute('aria-label')}: name a type or wildcard`);
      const list = values ? values.split(',').map((value) => value.trim()).filter(Boolean).map((v) => filterValue(v, !field)) : [];
      if (!field) {
        if (filters[type] && !Array.isArray(filters[type])) throw new Error(`${type}: filter by entity ids or by payload fields, not both`);
        filters[type] = [...(filters[type] || []), ...list];
      } else {
        if (Array.isArray(filters[type])) throw new Error(`${type}: filter by entity ids or by payload fields, not both`);
        filters[type] = { ...(filters[type] || {}), [field]: list };
      }
    }
    return filters;
  };
  const element = h('div', {}, options, rows,
    h('button', { type: 'button', class: 'secondary', text: 'Add filter', onclick: () => addRow('', '', '') }));
  return { element, read };
}
