// Building DOM without innerHTML: every text from the server is a text node.

/** h('div.cls#id', {attrs, onclick}, ...children) */
export function h(spec, attrs, ...children) {
  const [tag, ...rest] = spec.split(/(?=[.#])/);
  const el = document.createElement(tag || 'div');
  for (const part of rest) {
    if (part[0] === '.') el.classList.add(part.slice(1)); else el.id = part.slice(1);
  }
  // A first argument that is not an attribute object (text, a number, 0 included, a node) is a child.
  if (attrs !== null && attrs !== undefined && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function toast(message, kind) {
  const t = h('div.toast', message);
  if (kind) t.classList.add(kind);
  document.getElementById('toasts').append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 3500);
}

export async function copy(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    toast(`Copied ${what}`);
  } catch {
    // Clipboard needs a secure context or a permission: select it for a manual copy instead.
    toast(`Select and copy ${what} by hand (the browser refused the clipboard)`, 'error');
  }
}

export function copyRow(label, text, what) {
  return h('div.copy-row', h('span.label', label), h('code', text),
    h('button.small', { type: 'button', 'aria-label': `Copy ${what}`, onclick: () => copy(text, what) }, 'Copy'));
}

/** An error callout: the API's code and message, as the API words them. */
export function errorBox(error) {
  if (!error) return null;
  return h('div.callout.error', { role: 'alert' }, error.code ? h('span.code', error.code) : null, error.message);
}

export function stateBadge(state) {
  return h('span.state', { class: `state ${state}`, 'data-state': state }, state);
}
