// Modal dialogs: create child branch, reset, restore, expiry, confirmations.
import * as api from './api.js';
import { h, clear, errorBox, toast } from './dom.js';
import { localToIso, isoToLocal, time } from './format.js';

/** A modal with a title, a body and footer buttons; Escape and the backdrop close it. Returns {close, root}. */
export function modal(title, body, footer) {
  const previous = document.activeElement;
  const close = () => { backdrop.remove(); document.removeEventListener('keydown', onKey); previous?.focus?.(); };
  const onKey = (ev) => {
    if (ev.key === 'Escape') close();
    if (ev.key !== 'Tab') return;
    // Keep keyboard focus inside the dialog.
    const focusable = [...root.querySelectorAll('button, input, select, textarea, a[href]')].filter((e) => !e.disabled);
    const [first, last] = [focusable[0], focusable[focusable.length - 1]];
    if (ev.shiftKey && document.activeElement === first) { ev.preventDefault(); last.focus(); }
    else if (!ev.shiftKey && document.activeElement === last) { ev.preventDefault(); first.focus(); }
  };
  const titleId = `modal-${Math.random().toString(36).slice(2)}`;
  const root = h('div.modal', { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId },
    h('header', h('h2', { id: titleId }, title), h('button.ghost', { type: 'button', 'aria-label': 'Close', onclick: () => close() }, '✕')),
    h('div.body', body),
    h('footer', footer(close)));
  const backdrop = h('div.modal-backdrop', { onmousedown: (ev) => { if (ev.target === backdrop) close(); } }, root);
  document.addEventListener('keydown', onKey);
  document.body.append(backdrop);
  (root.querySelector('[autofocus]') || root.querySelector('input, select, button.primary, button.danger'))?.focus();
  return { close, root };
}

const EXPIRY_CHOICES = [['never', 'Never'], ['1h', '1 hour'], ['1d', '1 day'], ['7d', '7 days'], ['date', 'On a date']];
const HOURS = { '1h': 1, '1d': 24, '7d': 168 };

function expiryFields(name) {
  const date = h('input', { type: 'datetime-local', 'aria-label': 'Delete on this date', disabled: true });
  const radios = EXPIRY_CHOICES.map(([value, label]) => h('label.choice', h('input', {
    type: 'radio', name, value, checked: value === 'never',
    onchange: () => { date.disabled = value !== 'date'; if (value === 'date') date.focus(); },
  }), label));
  const fieldset = h('fieldset', h('legend', 'Delete automatically'), h('div.inline', radios), date);
  const value = () => {
    const choice = fieldset.querySelector('input[type=radio]:checked').value;
    if (choice === 'never') return null;
    if (choice === 'date') {
      if (!date.value) throw new Error('pick the date the branch is deleted on');
      return localToIso(date.value);
    }
    return new Date(Date.now() + HOURS[choice] * 3600_000).toISOString();
  };
  return { fieldset, value };
}

export function createBranchDialog(parentName, branches, done) {
  const parent = h('select#new-parent', { 'aria-label': 'Parent branch' },
    branches.map((b) => h('option', { value: b.name, selected: b.name === parentName }, b.name)));
  const name = h('input#new-name', { type: 'text', autocomplete: 'off', spellcheck: 'false', autofocus: true,
    placeholder: 'dev/alex', 'aria-describedby': 'new-name-error' });
  const nameError = h('div.field-error#new-name-error', { 'aria-live': 'polite' });
  const oldest = h('span.hint');
  const when = h('input#new-time', { type: 'datetime-local', step: '1', 'aria-label': 'Data as of this time', disabled: true });
  const lsn = h('input#new-lsn', { type: 'text', placeholder: '0/16B3748', 'aria-label': 'Data at this LSN', disabled: true });
  const atChoice = (value, label, extra) => h('label.choice', h('input', { type: 'radio', name: 'at', value, checked: value === 'now',
    onchange: () => { when.disabled = value !== 'time'; lsn.disabled = value !== 'lsn'; } }), label, extra);
  const at = h('fieldset', h('legend', 'Data'), atChoice('now', 'Now (the parent\'s latest state)'),
    atChoice('time', 'As of a time', when), atChoice('lsn', 'At an LSN', lsn), oldest);
  const expiry = expiryFields('new-expiry');
  const problem = h('div');

  const showBounds = () => {
    const p = branches.find((b) => b.name === parent.value);
    const from = p?.restorableFrom;
    when.max = isoToLocal(new Date().toISOString());
    if (from?.time) when.min = isoToLocal(from.time); else when.removeAttribute('min');
    clear(oldest, from ? `Oldest restorable point of ${p.name}: ${from.time ? time(from.time) : ''} (LSN ${from.lsn})`
      : `${p?.name ?? 'The parent'} keeps no history before now`);
  };
  parent.addEventListener('change', showBounds);
  name.addEventListener('input', () => {
    const issue = api.branchNameProblem(name.value);
    name.classList.toggle('invalid', !!issue && name.value !== '');
    nameError.textContent = name.value === '' ? '' : issue ?? '';
  });
  showBounds();

  const body = [
    h('label.field', 'Parent', parent),
    h('label.field', { for: 'new-name' }, 'Name', name, nameError),
    at, expiry.fieldset, problem,
  ];
  const dialog = modal('Create child branch', body, (close) => [
    h('button', { type: 'button', onclick: close }, 'Cancel'),
    h('button.primary#create-submit', { type: 'button', onclick: submit }, 'Create branch'),
  ]);

  async function submit() {
    clear(problem);
    const request = { name: name.value.trim(), parent: parent.value };
    try {
      const choice = at.querySelector('input[type=radio]:checked').value;
      if (choice === 'time') {
        if (!when.value) throw new Error('pick the time the data is taken at');
        request.at = localToIso(when.value);
      }
      if (choice === 'lsn') request.at = lsn.value.trim();
      const expiresAt = expiry.value();
      if (expiresAt) request.expiresAt = expiresAt;
    } catch (e) {
      clear(problem, errorBox({ message: e.message }));
      return;
    }
    try {
      const created = await api.post(`${api.projectPath()}/branches`, request);
      dialog.close();
      toast(`Created ${created.name} from ${created.parent}`);
      done?.(created);
    } catch (e) {
      // The API's own words; a refused name goes under the name field.
      if (/branch name|already exists|name/i.test(e.message) && e.status !== 503) {
        name.classList.add('invalid');
        nameError.textContent = e.message;
      } else {
        clear(problem, errorBox(e));
      }
    }
  }
}

/** A yes/no question; resolves true when confirmed. */
export function confirmDialog(title, message, action, danger) {
  return new Promise((resolve) => {
    modal(title, h('p', message), (close) => [
      h('button', { type: 'button', onclick: () => { close(); resolve(false); } }, 'Cancel'),
      h(danger ? 'button.danger.solid' : 'button.primary', { type: 'button', onclick: () => { close(); resolve(true); } }, action),
    ]);
  });
}

/**
 * The branch's own changes that the parent lacks: in a three-way diff, the branch's side minus
 * what the parent changed the same way since (a promote puts it on both sides).
 */
function notPromoted(database, threeWay) {
  if (!threeWay) return database.changes;
  const same = (a, b) => a.object === b.object && JSON.stringify(a.after) === JSON.stringify(b.after);
  const own = database.branch.filter((c) => !database.parent.some((p) => same(c, p)));
  // A new table's columns go with it: name the table only.
  const added = own.filter((c) => c.change === 'added' && c.kind === 'table').map((c) => `${c.object}.`);
  return own.filter((c) => !(c.kind === 'column' && added.some((t) => c.object.startsWith(t))));
}

export async function resetDialog(branch, done) {
  const loading = h('p.muted', `Reading what ${branch.name} holds…`);
  const problem = h('div');
  const typed = h('input#reset-confirm', { type: 'text', autocomplete: 'off', spellcheck: 'false', disabled: true,
    'aria-label': `Type ${branch.name} to confirm` });
  const content = h('div', loading);
  let submitButton;
  const dialog = modal(`Reset ${branch.name} from ${branch.parent}`, [content, problem], (close) => [
    h('button', { type: 'button', onclick: close }, 'Cancel'),
    submitButton = h('button.danger.solid#reset-submit', { type: 'button', disabled: true, onclick: submit }, 'Reset branch'),
  ]);
  typed.addEventListener('input', () => { submitButton.disabled = typed.value !== branch.name; });

  const [impact, diff] = await Promise.allSettled([
    api.get(`${api.branchPath(branch.name)}/reset-impact`),
    api.get(`${api.branchPath(branch.name)}/schema-diff`),
  ]);
  const lost = diff.status === 'fulfilled' ? diff.value.databases.flatMap((d) => notPromoted(d, diff.value.threeWay)
    .map((c) => ({ ...c, database: d.database }))) : null;
  const i = impact.status === 'fulfilled' ? impact.value : null;
  clear(content,
    h('div.callout.warn', 'Everything on ', h('b', branch.name), ' is replaced by the latest state of ', h('b', branch.parent),
      '. The connection string stays the same.'),
    h('h3', 'Databases replaced'),
    i ? h('div.chips#reset-databases', i.databases.map((d) => h('span.chip', d))) : errorBox(impact.reason),
    h('h3', 'Roles replaced'),
    i ? h('div.chips#reset-roles', i.roles.map((r) => h('span.chip', r))) : null,
    h('h3', 'Open connections dropped'),
    i ? h('div#reset-connections', i.connections.length === 0 ? h('p.muted', 'No open connections.')
      : [h('p', `${i.connections.length} connection${i.connections.length === 1 ? '' : 's'} will be dropped:`),
        h('ul.plain', i.connections.map((c) => h('li', h('code', c.clientAddress ?? 'local socket'), ` ${c.user} on ${c.database}`,
          c.application ? ` (${c.application})` : '', `, ${c.state ?? 'idle'}`)))]) : null,
    h('h3', 'Changes not promoted (lost)'),
    lost === null ? errorBox(diff.reason)
      : h('div#reset-lost', lost.length === 0 ? h('p.muted', `No schema changes of ${branch.name} that ${branch.parent} lacks.`)
        : h('ul.plain', lost.map((c) => h('li', h('span', { class: `verb ${c.change}` }, c.change), ` ${c.kind} `,
          h('code', c.object), ` in ${c.database}`)))),
    h('label.field', { for: 'reset-confirm' }, h('span', 'Type ', h('code', branch.name), ' to confirm'), typed));
  typed.disabled = false;
  typed.focus();

  async function submit() {
    submitButton.disabled = true;
    submitButton.textContent = 'Resetting…';
    try {
      const after = await api.post(`${api.branchPath(branch.name)}/reset`);
      dialog.close();
      toast(`${after.name} now holds ${after.parent} as of LSN ${after.parentLsn}`);
      done?.(after);
    } catch (e) {
      clear(problem, errorBox(e));
      submitButton.textContent = 'Reset branch';
      submitButton.disabled = false;
    }
  }
}

export function restoreDialog(branch, done) {
  const when = h('input#restore-time', { type: 'datetime-local', step: '1', 'aria-label': 'Restore to this time' });
  const lsn = h('input#restore-lsn', { type: 'text', placeholder: '0/16B3748', 'aria-label': 'Restore to this LSN' });
  const backup = h('input', { type: 'checkbox', checked: true });
  const from = branch.restorableFrom;
  if (from?.time) when.min = isoToLocal(from.time);
  when.max = isoToLocal(new Date().toISOString());
  const problem = h('div');
  const dialog = modal(`Restore ${branch.name} to a point`, [
    h('p', `Rewinds ${branch.name} to its state at a past time or LSN.`),
    h('p.muted', from ? `Restorable from ${from.time ? time(from.time) : ''} (LSN ${from.lsn}).` : 'No history is kept for this branch.'),
    h('label.field', 'Time', when), h('label.field', 'or LSN', lsn),
    h('label.choice', backup, 'Keep the current state as a backup branch'),
    problem,
  ], (close) => [
    h('button', { type: 'button', onclick: close }, 'Cancel'),
    h('button.danger.solid#restore-submit', { type: 'button', onclick: submit }, 'Restore'),
  ]);
  async function submit() {
    const at = lsn.value.trim() || localToIso(when.value);
    if (!at) { clear(problem, errorBox({ message: 'pick a time or type an LSN' })); return; }
    try {
      const after = await api.post(`${api.branchPath(branch.name)}/restore`, { at, backup: backup.checked });
      dialog.close();
      toast(after.backup ? `Restored; the previous state is kept as ${after.backup}` : 'Restored');
      done?.(after);
    } catch (e) {
      clear(problem, errorBox(e));
    }
  }
}

export function expiryDialog(branch, done) {
  const expiry = expiryFields('set-expiry');
  const problem = h('div');
  const dialog = modal(`Auto-delete ${branch.name}`, [
    h('p.muted', branch.expiresAt ? `Currently deleted at ${time(branch.expiresAt)}.` : 'Currently kept until deleted by hand.'),
    expiry.fieldset, problem,
  ], (close) => [
    h('button', { type: 'button', onclick: close }, 'Cancel'),
    h('button.primary', { type: 'button', onclick: submit }, 'Save'),
  ]);
  async function submit() {
    try {
      const after = await api.patch(api.branchPath(branch.name), { expiresAt: expiry.value() });
      dialog.close();
      toast(after.expiresAt ? `${after.name} will be deleted at ${time(after.expiresAt)}` : `${after.name} no longer expires`);
      done?.(after);
    } catch (e) {
      clear(problem, errorBox(e));
    }
  }
}
