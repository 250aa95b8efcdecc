// Building DOM safely: text always goes in as text nodes, never as HTML.

/** Creates an element: h('a', {href: '/', class: 'x', onclick: fn}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.setAttribute('class', value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else if (!svg && key in el && !key.includes('-') && key !== 'list' && key !== 'form') {
      el[key] = value;
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

/** Appends children, skipping null/false (so `cond && node` works). */
export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const rupees = new Intl.NumberFormat('en-IN', { style: 'currency', currency: 'INR', maximumFractionDigits: 0 });
/** Whole rupees as ₹1,500. */
export const money = (value) => rupees.format(value);

const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short',
});
/** An RFC 3339 instant in the reader's own time zone, which it names ("10:00 AM GMT+5:30"). */
export function dateTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : dateTimeFormat.format(date);
}

/** `<time>` with a machine-readable value. */
export const time = (iso) => h('time', { datetime: iso }, dateTime(iso));

/** A coloured status chip; the text is the status itself, so colour is never the only cue. */
export const statusChip = (status) => h('span', { class: `status status-${status}` }, status);

/** A tab strip with keyboard support (arrow keys move between tabs, as ARIA describes). */
export function tabs(items, onSelect, selected = items[0].id) {
  const buttons = items.map((item) => h('button', {
    type: 'button',
    role: 'tab',
    id: `tab-${item.id}`,
    'aria-selected': String(item.id === selected),
    'aria-controls': 'tab-panel',
    tabindex: item.id === selected ? '0' : '-1',
    onclick: () => choose(item.id),
  }, item.label));
  const bar = h('div', { class: 'tabs', role: 'tablist' }, buttons);
  function choose(id) {
    for (const button of buttons) {
      const on = button.id === `tab-${id}`;
      button.setAttribute('aria-selected', String(on));
      button.tabIndex = on ? 0 : -1;
    }
    document.getElementById('tab-panel')?.setAttribute('aria-labelledby', `tab-${id}`);
    onSelect(id);
  }
  bar.addEventListener('keydown', (e) => {
    const index = buttons.indexOf(document.activeElement);
    const moves = {
      ArrowRight: index + 1,
      ArrowLeft: index + buttons.length - 1,
      Home: 0,
      End: buttons.length - 1,
    };
    if (index < 0 || !(e.key in moves)) return;
    e.preventDefault();
    const next = buttons[moves[e.key] % buttons.length];
    next.focus();
    next.click();
  });
  return { bar, choose };
}
