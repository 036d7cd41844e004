// Home: the project's branches as a tree, live.
import * as api from './api.js';
import { h, clear, stateBadge } from './dom.js';
import { bytes, time, relative } from './format.js';
import { createBranchDialog } from './dialogs.js';

/** Orders branches parent-first, children by name, with their depth. */
export function treeOrder(branches) {
  const children = new Map();
  for (const b of branches) {
    const key = b.parent ?? '';
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(b);
  }
  const names = new Set(branches.map((b) => b.name));
  const out = [];
  const walk = (parent, depth, prefix) => {
    const list = (children.get(parent) || []).sort((a, b) => a.name.localeCompare(b.name));
    list.forEach((b, i) => {
      const last = i === list.length - 1;
      out.push({ branch: b, depth, guide: depth === 0 ? '' : prefix + (last ? '└─ ' : '├─ ') });
      walk(b.name, depth + 1, depth === 0 ? '' : prefix + (last ? '   ' : '│  '));
    });
  };
  walk('', 0, '');
  // Branches whose parent is gone from the list (should not happen) still show.
  for (const b of branches) if (b.parent && !names.has(b.parent)) out.push({ branch: b, depth: 0, guide: '' });
  return out;
}

export async function branchesPage(ctx, params) {
  const filter = h('input.filter', { type: 'search', placeholder: 'Filter: dev/, preview/ …', 'aria-label': 'Filter branches by name',
    value: params.get('filter') || '' });
  const body = h('tbody');
  const count = h('span.muted');
  const table = h('table.tree', { 'aria-label': 'Branches' },
    h('thead', h('tr', h('th', 'Branch'), h('th', 'Compute'), h('th.num', 'Port'), h('th.num.wide', 'Exclusive'),
      h('th.num.wide', 'Shared'), h('th.num.wide', 'Pending'), h('th.wide', 'Expires'), h('th.wide', 'Created'),
      h('th.wide', 'Parent LSN'), h('th', ''))),
    body);
  let branches = [];

  const draw = () => {
    const needle = filter.value.trim();
    const rows = treeOrder(branches).filter(({ branch }) => !needle || branch.name.includes(needle));
    count.textContent = `${rows.length} of ${branches.length} branches`;
    clear(body, rows.map(({ branch: b, guide }) => h('tr.row', { 'data-branch': b.name },
      h('td.name', h('span.indent', guide), h('a.branch', { href: `#/branch/${api.enc(b.name)}` }, b.name),
        b.protected ? h('span.shield', { title: 'Protected: cannot be deleted, reset or restored' }, 'protected') : null),
      h('td', stateBadge(b.computeState)),
      h('td.num.mono', b.port),
      h('td.num.wide', bytes(b.exclusiveBytes)), h('td.num.wide', bytes(b.sharedBytes)), h('td.num.wide', bytes(b.pendingBytes)),
      h('td.wide', b.expiresAt ? h('span', { title: time(b.expiresAt) }, relative(b.expiresAt)) : h('span.muted', 'never')),
      h('td.wide', { title: time(b.createdAt) }, relative(b.createdAt)),
      h('td.wide.mono', b.parentLsn ?? '—'),
      h('td', h('button.small', { type: 'button', onclick: () => createBranchDialog(b.name, branches, refresh),
        'aria-label': `Create a child branch of ${b.name}` }, '+ Child')))));
  };
  const refresh = async () => {
    branches = (await api.get(`${api.projectPath()}/branches`)).branches;
    draw();
  };
  filter.addEventListener('input', draw);

  clear(ctx.main,
    h('div.page-head',
      h('div', h('h1', 'Branches'), h('div.subtitle', 'Copy-on-write branches of project ', h('b', api.project.name),
        '. Compute state updates live.')),
      h('div.toolbar', filter, h('button.primary#create-branch', { type: 'button',
        onclick: () => createBranchDialog('development', branches, refresh) }, 'Create child branch'))),
    h('div.panel', h('div.table-wrap', table), h('div.small', count)));
  await refresh();
  ctx.every(2000, () => refresh().catch(() => {}));
}
