// An endpoint's deliveries over time (`GET /v1/webhooks/{id}/stats`), drawn as stacked bars
// (delivered, retried, failed) with the failure rate as a line; and the success rate the
// endpoint list shows. The drawing is one SVG whose accessible name states what it draws.
'use strict';

const SPANS = [
  { label: '24 hours', hours: 24 },
  { label: '7 days', hours: 7 * 24 },
  { label: '30 days', hours: 30 * 24 },
];
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attributes, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes || {})) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

function since(hours) {
  return new Date(Date.now() - hours * 3600 * 1000).toISOString();
}

function percent(rate) {
  return `${Math.round(rate * 1000) / 10}%`;
}

/// "Deliveries, last 24 hours: 12 delivered, 3 failed, 2 retried; failure rate 29.4%".
function chartName(span, totals) {
  const rate = totals.failure_rate === null ? '' : `; failure rate ${percent(totals.failure_rate)}`;
  return `Deliveries, last ${span.label}: ${totals.delivered} delivered, ${totals.failed} failed, ${totals.retrying} retried${rate}`;
}

function drawChart(span, stats) {
  const width = 900;
  const height = 180;
  const top = 12;
  const bottom = 22;
  const plot = height - top - bottom;
  const buckets = stats.buckets;
  const most = Math.max(1, ...buckets.map((b) => b.delivered + b.retrying + b.failed));
  const step = width / buckets.length;
  const bar = Math.max(1, step * 0.8);
  const shapes = [];
  const rates = [];
  buckets.forEach((bucket, n) => {
    let y = top + plot;
    for (const [kind, count] of [['delivered', bucket.delivered], ['retrying', bucket.retrying], ['failed', bucket.failed]]) {
      if (!count) continue;
      const tall = (count / most) * plot;
      y -= tall;
      shapes.push(svg('rect', { class: `bar-${kind}`, x: (n * step + (step - bar) / 2).toFixed(1), y: y.toFixed(1), width: bar.toFixed(1), height: tall.toFixed(1) }));
    }
    const total = bucket.delivered + bucket.retrying + bucket.failed;
    if (total) rates.push(`${(n * step + step / 2).toFixed(1)},${(top + plot - ((bucket.retrying + bucket.failed) / total) * plot).toFixed(1)}`);
  });
  const name = chartName(span, stats.totals);
  const day = (text) => text.slice(0, span.hours > 48 ? 10 : 16).replace('T', ' ');
  return svg('svg', { role: 'img', 'aria-label': name, viewBox: `0 0 ${width} ${height}`, class: 'chart' },
    svg('title', {}, name),
    svg('line', { class: 'axis', x1: 0, x2: width, y1: top + plot, y2: top + plot }),
    ...shapes,
    rates.length > 1 ? svg('polyline', { class: 'rate', points: rates.join(' ') }) : svg('g', {}),
    ...rates.map((point) => svg('circle', { class: 'rate-point', cx: point.split(',')[0], cy: point.split(',')[1], r: 2.5 })),
    svg('text', { x: 0, y: height - 6, class: 'tick' }, day(buckets[0].start)),
    svg('text', { x: width, y: height - 6, class: 'tick end' }, `${day(buckets[buckets.length - 1].start)} UTC`),
    svg('text', { x: 0, y: top - 2, class: 'tick' }, `${most} per ${stats.bucket}`));
}

/// The chart's section of an endpoint's page: three spans to choose from, 24 hours first;
/// its `refresh()` draws the chosen span again.
function chartSection(endpointId) {
  let shown = SPANS[0];
  const area = h('div', { class: 'chart-area', 'aria-live': 'polite' }, h('p', { class: 'notice', text: 'Loading the chart…' }));
  const buttons = SPANS.map((span) => h('button', {
    type: 'button', class: 'secondary', 'aria-pressed': span === SPANS[0] ? 'true' : 'false',
    text: span.label, onclick: () => load(span),
  }));
  const legend = h('p', { class: 'legend' },
    h('span', { class: 'key-delivered', text: 'delivered' }), h('span', { class: 'key-retrying', text: 'retried' }),
    h('span', { class: 'key-failed', text: 'failed' }), h('span', { class: 'key-rate', text: 'failure rate' }));
  async function load(span) {
    shown = span;
    buttons.forEach((button, n) => button.setAttribute('aria-pressed', String(SPANS[n] === span)));
    try {
      const stats = await api('GET', `/v1/webhooks/${endpointId}/stats?since=${encodeURIComponent(since(span.hours))}`);
      const { totals } = stats;
      const rate = totals.failure_rate === null ? 'nothing sent' : `failure rate ${percent(totals.failure_rate)}`;
      area.replaceChildren(drawChart(span, stats),
        h('p', { class: 'notice', 'aria-hidden': 'true', text: `${totals.delivered} delivered, ${totals.failed} failed, ${totals.retrying} retried; ${rate}` }));
    } catch (error) {
      area.replaceChildren(failure(error));
    }
  }
  load(SPANS[0]);
  const section = h('section', { class: 'card', 'aria-label': 'Deliveries over time' },
    h('div', { class: 'actions', role: 'group', 'aria-label': 'Chart span' }, buttons), area, legend);
  section.refresh = () => load(shown);
  return section;
}

/// "97.5% of 40" for the last 24 hours, filled into `cell` once known.
async function successRate(endpointId, cell) {
  try {
    const { totals } = await api('GET', `/v1/webhooks/${endpointId}/stats`);
    const total = totals.delivered + totals.retrying + totals.failed;
    cell.textContent = total ? `${percent(totals.delivered / total)} of ${total}` : 'none';
  } catch (error) {
    cell.textContent = '';
  }
}
