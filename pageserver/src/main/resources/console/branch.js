// One branch: connection details, compute, history, usage, and the actions on it.
import * as api from './api.js';
import { h, clear, copyRow, errorBox, stateBadge, toast } from './dom.js';
import { bytes, time, relative } from './format.js';
import { confirmDialog, createBranchDialog, expiryDialog, resetDialog, restoreDialog } from './dialogs.js';

export async function branchPage(ctx, name) {
  const path = api.branchPath(name);
  const [connection, listing] = await Promise.all([api.get(`${path}/connection`), api.get(`${api.projectPath()}/branches`)]);
  let branches = listing.branches;
  const head = h('div.page-head');
  const facts = h('dl.facts');
  const usage = h('dl.facts');
  const children = h('div');
  const actionProblem = h('div#action-result', { 'aria-live': 'polite' });
  const actions = h('div.actions');
  const computeButton = h('button#compute-toggle', { type: 'button' });

  const point = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const travel = connection.routingUri
    ? connection.routingUri.replace(/\?options=.*$/, `?options=${encodeURIComponent(`branch=${connection.branch}@${point}`)}`) : null;
  const connectionPanel = h('div.panel#connection',
    h('h2', 'Connect'),
    copyRow('Branch port', connection.uri, 'the connection string'),
    connection.routingUri ? copyRow('Routing port', connection.routingUri, 'the routing-port string') : null,
    travel ? copyRow('Time travel', travel, 'the time-travel string') : null,
    copyRow('.env', `DATABASE_URL=${connection.uri}`, 'the .env line'),
    h('p.small.muted', 'The first connection starts a suspended compute. Time travel is read-only: replace the time after ',
      h('code', '@'), ' with any time or LSN since the branch\'s restorable point.'));

  const act = async (label, fn) => {
    clear(actionProblem);
    try {
      await fn();
      await refresh();
    } catch (e) {
      clear(actionProblem, errorBox(e));
      if (e.status !== 404) await refresh().catch(() => {});
    }
  };

  const draw = (b) => {
    clear(head,
      h('div', h('h1', b.name, b.protected ? h('span.shield', 'protected') : null, stateBadge(b.computeState)),
        h('div.subtitle', b.parent ? ['Child of ', h('a', { href: `#/branch/${api.enc(b.parent)}` }, b.parent), ` at LSN ${b.parentLsn}`]
          : 'Root branch of the project')),
      h('div.toolbar',
        h('a.button', { href: `#/sql?branch=${api.enc(b.name)}` }, 'Open SQL editor'),
        b.parent ? h('a.button#open-diff', { href: `#/diff/${api.enc(b.name)}` }, 'Schema diff') : null,
        h('button', { type: 'button', onclick: () => createBranchDialog(b.name, branches, (c) => { location.hash = `#/branch/${api.enc(c.name)}`; }) },
          '+ Child branch')));
    const running = b.computeState === 'running';
    computeButton.textContent = running ? 'Stop compute' : 'Start compute';
    computeButton.onclick = () => act('compute', () => api.post(`${path}/compute/${running ? 'stop' : 'start'}`));
    clear(facts,
      h('dt', 'Compute'), h('dd', stateBadge(b.computeState), b.computePid ? h('span.muted', ` pid ${b.computePid}`) : null),
      h('dt', 'Port'), h('dd.mono', b.port),
      h('dt', 'Created'), h('dd', time(b.createdAt), h('span.muted', ` (${relative(b.createdAt)})`)),
      h('dt', 'Parent LSN'), h('dd.mono', b.parentLsn ?? '—'),
      h('dt', 'Head LSN'), h('dd.mono#head-lsn', b.headLsn ?? '—'),
      h('dt', 'Restorable from'), h('dd', b.restorableFrom ? [b.restorableFrom.time ? time(b.restorableFrom.time) : '', h('span.mono.muted', ` LSN ${b.restorableFrom.lsn}`)] : '—'),
      h('dt', 'Expires'), h('dd', b.expiresAt ? `${time(b.expiresAt)} (${relative(b.expiresAt)})` : 'never'));
    clear(usage,
      h('dt', 'Exclusive'), h('dd', bytes(b.exclusiveBytes), h('span.muted.small', ' freed by deleting it')),
      h('dt', 'Shared'), h('dd', bytes(b.sharedBytes), h('span.muted.small', ' history other branches read too')),
      h('dt', 'Pending'), h('dd', bytes(b.pendingBytes), h('span.muted.small', ' in memory and the ingest log')));
    const kids = branches.filter((x) => x.parent === b.name);
    clear(children, kids.length === 0 ? h('p.muted', 'No child branches.')
      : h('ul.plain', kids.map((k) => h('li', h('a', { href: `#/branch/${api.enc(k.name)}` }, k.name), ' ', stateBadge(k.computeState)))));
    clear(actions,
      computeButton,
      b.parent ? h('button.danger#reset', { type: 'button', onclick: () => resetDialog(b, refresh) }, 'Reset from parent') : null,
      h('button#restore', { type: 'button', onclick: () => restoreDialog(b, refresh) }, 'Restore to a point'),
      h('button#protect', { type: 'button', onclick: async () => {
        const yes = await confirmDialog(b.protected ? `Unprotect ${b.name}?` : `Protect ${b.name}?`,
          b.protected ? 'It can then be deleted, reset and restored.' : 'Protected branches cannot be deleted, reset or restored.',
          b.protected ? 'Unprotect' : 'Protect', b.protected);
        if (yes) act('protect', () => api.patch(path, { protected: !b.protected }));
      } }, b.protected ? 'Unprotect' : 'Protect'),
      h('button#expiry', { type: 'button', onclick: () => expiryDialog(b, refresh) }, 'Set expiry'),
      h('button.danger#delete', { type: 'button', onclick: async () => {
        if (await confirmDialog(`Delete ${b.name}?`, `The branch, its compute and its history are removed. This cannot be undone.`, 'Delete', true)) {
          act('delete', async () => {
            await api.del(path);
            toast(`Deleted ${b.name}`);
            location.hash = '#/branches';
          });
        }
      } }, 'Delete'));
  };

  let shown = '';
  const refresh = async () => {
    branches = (await api.get(`${api.projectPath()}/branches`)).branches;
    const b = branches.find((x) => x.name === name);
    if (!b) { location.hash = '#/branches'; return; }
    // Redraw only on change, so keyboard focus stays where it is between polls.
    const now = JSON.stringify(branches);
    if (now !== shown) { shown = now; draw(b); }
  };

  clear(ctx.main, head,
    h('div.branch-top', connectionPanel,
      h('div.panel', h('h2', 'Actions'), actionProblem, actions)),
    h('div.grid',
      h('div.panel', h('h2', 'Details'), facts),
      h('div.panel', h('h2', 'Disk usage'), usage),
      h('div.panel', h('h2', 'Child branches'), children)));
  draw(branches.find((x) => x.name === name) || await api.get(path));
  ctx.every(2000, () => refresh().catch(() => {}));
}
