// Schema diff side by side (jsdiff lines), migration SQL, promote with a dry run.
import * as api from './api.js';
import { h, clear, copy, errorBox, toast } from './dom.js';

/** An object's compared properties as "key: value" lines (multi-line values, e.g. view bodies, stay multi-line). */
function lines(props) {
  if (!props) return '';
  return Object.keys(props).sort().map((k) => `${k}: ${props[k]}`).join('\n') + '\n';
}

/** Rows of [left, right] cells from jsdiff's line diff: removed lines red on the left, added green on the right. */
function alignedRows(before, after) {
  const rows = [];
  const parts = window.Diff.diffLines(before, after);
  const split = (p) => p.value.replace(/\n$/, '').split('\n');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (!p.added && !p.removed) {
      split(p).forEach((l) => rows.push([{ kind: 'same', text: l }, { kind: 'same', text: l }]));
    } else if (p.removed && parts[i + 1]?.added) {
      const left = split(p);
      const right = split(parts[++i]);
      for (let j = 0; j < Math.max(left.length, right.length); j++) {
        rows.push([j < left.length ? { kind: 'del', text: left[j] } : { kind: 'blank', text: '' },
          j < right.length ? { kind: 'add', text: right[j] } : { kind: 'blank', text: '' }]);
      }
    } else if (p.removed) {
      split(p).forEach((l) => rows.push([{ kind: 'del', text: l }, { kind: 'blank', text: '' }]));
    } else {
      split(p).forEach((l) => rows.push([{ kind: 'blank', text: '' }, { kind: 'add', text: l }]));
    }
  }
  return rows;
}

function changeCard(change, leftLabel, rightLabel) {
  const rows = alignedRows(lines(change.before), lines(change.after));
  const side = (label, index) => h('div.side', h('div.head', label),
    rows.map((r) => h('div', { class: `line ${r[index].kind}` }, r[index].text)));
  return h('div.change', { 'data-object': change.object, 'data-change': change.change },
    h('div.title', h('span', { class: `verb ${change.change}` }, change.change), h('span.muted', change.kind), h('code', change.object)),
    h('div.sides', side(leftLabel, 0), side(rightLabel, 1)));
}

function conflictCard(conflict, branch, parent) {
  return h('div.change', { 'data-object': conflict.object },
    h('div.title', h('span.verb.removed', 'conflict'), h('span.muted', conflict.kind), h('code', conflict.object)),
    h('div.callout.warn', `Changed on both sides since ${branch} was taken: on ${branch} it was ${conflict.branch.change}, `
      + `on ${parent} it was ${conflict.parent.change}. Promote refuses it unless forced; decide which version wins, `
      + 'make both branches agree, and diff again.'),
    h('div.sides',
      h('div.side', h('div.head', `on ${parent}`), lines(conflict.parent.after || conflict.parent.before).split('\n').map((l) => h('div.line.same', l))),
      h('div.side', h('div.head', `on ${branch}`), lines(conflict.branch.after || conflict.branch.before).split('\n').map((l) => h('div.line.same', l)))));
}

export async function diffPage(ctx, name, params) {
  const path = api.branchPath(name);
  const body = h('div', h('p.muted', 'Comparing schemas…'));
  const promoteResult = h('div#promote-result', { 'aria-live': 'polite' });
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', 'Schema diff'), h('div.subtitle#diff-subtitle', name)),
      h('div.toolbar',
        h('a.button', { href: `#/branch/${api.enc(name)}` }, 'Back to branch'),
        h('button#promote-dry-run', { type: 'button', onclick: () => promote(true) }, 'Promote: dry run'),
        h('button.primary#promote', { type: 'button', onclick: () => promote(false) }, 'Promote'))),
    promoteResult, body);

  const load = async () => {
    const query = params.get('against') ? `?against=${encodeURIComponent(params.get('against'))}` : '';
    const report = await api.get(`${path}/schema-diff${query}`);
    const parent = report.against;
    document.getElementById('diff-subtitle').textContent = `${report.branch} against ${parent}`
      + (report.threeWay ? ` · three-way, base ${report.base}` : '');
    const sections = report.threeWay ? [
      ['yours', `Changed on ${report.branch}`, (d) => d.branch, `${parent} (at the branch point)`, report.branch],
      ['theirs', `On ${parent} since`, (d) => d.parent, 'at the branch point', parent],
      ['conflicts', 'Conflicts', (d) => d.conflicts, null, null],
    ] : [['all', `Differences`, (d) => d.changes, parent, report.branch]];
    const panel = h('div#diff-section');
    const tabs = h('div.tabs.diff-tabs', { role: 'tablist' });
    const showSection = (i) => {
      [...tabs.children].forEach((t, j) => { t.classList.toggle('active', i === j); t.setAttribute('aria-selected', i === j); });
      const [key, , pick, left, right] = sections[i];
      const items = report.databases.flatMap((d) => pick(d).map((c) => [d.database, c]));
      clear(panel, items.length === 0 ? h('p.muted', 'Nothing here.') : items.map(([db, c]) => [
        report.databases.length > 1 ? h('h3', db) : null,
        key === 'conflicts' ? conflictCard(c, report.branch, parent) : changeCard(c, left, right)]));
    };
    sections.forEach(([key, label, pick], i) => {
      const n = report.databases.reduce((sum, d) => sum + pick(d).length, 0);
      tabs.append(h('button', { type: 'button', role: 'tab', 'data-section': key, onclick: () => showSection(i) }, `${label} (${n})`));
    });
    const migration = report.databases.filter((d) => d.migration.length > 0).map((d) => {
      const sql = d.migration.map((s) => s.sql).join('\n');
      return [h('h3', `${d.database}: makes ${parent} equal to ${report.branch}`), h('pre.sql#migration-sql', sql),
        h('button.small', { type: 'button', onclick: () => copy(sql, 'the migration SQL') }, 'Copy SQL')];
    });
    // Migration-history rows (Django, Alembic, ...) that promote carries with the schema.
    const history = report.databases.flatMap((d) => (d.history || []).map((t) => ({ ...t, database: d.database })));
    const historyPanel = history.length === 0 ? null : h('div.panel#diff-history', h('h2', 'Migration history'),
      history.map((t) => {
        const rows = t.carried || t.changes || [];
        return [h('h3', `${t.tool} · ${t.table}${report.databases.length > 1 ? ` (${t.database})` : ''}`),
          rows.length === 0 ? h('p.muted', 'No rows to carry.')
            : h('ul.plain', rows.map((r) => h('li', h('span', { class: `verb ${r.change}` }, r.change), ' ',
              h('code', Object.values(r.key || {}).join(' · '))))),
          (t.conflicts || []).length ? h('div.callout.warn', `${t.conflicts.length} row(s) changed differently on both sides.`) : null];
      }));
    clear(body,
      report.identical ? h('div.callout.ok', `No differences: ${report.branch} and ${parent} have the same schema.`) : null,
      report.notes.map((n) => h('div.callout.info', n)),
      h('div.panel', tabs, panel),
      historyPanel,
      h('div.panel', h('h2', 'Migration SQL'), migration.length ? migration : h('p.muted', 'No statements.')));
    showSection(0);
  };

  async function promote(dryRun) {
    clear(promoteResult, h('div.callout.info', dryRun ? 'Planning the promote…' : 'Promoting…'));
    try {
      const report = await api.post(`${path}/promote`, { dryRun });
      const items = report.databases.flatMap((d) => d.promoted.map((c) => [d.database, c]));
      clear(promoteResult, h(report.dryRun ? 'div.callout.info' : report.verified ? 'div.callout.ok' : 'div.callout.error',
        h('b', report.dryRun ? `Dry run: would promote ${items.length} change(s) into ${report.parent}`
          : report.applied ? `Promoted ${items.length} change(s) into ${report.parent}` : `Nothing applied to ${report.parent}`),
        report.dryRun ? null : h('div', report.verified ? `Verified: ${report.parent} now has every promoted object as on ${report.branch}.`
          : 'Not verified: see the notes.'),
        h('ul.plain', items.map(([db, c]) => h('li', h('span', { class: `verb ${c.change}` }, c.change), ` ${c.kind} `, h('code', c.object), ` (${db})`))),
        report.notes.map((n) => h('div.small', n)),
        report.databases.filter((d) => d.sql).map((d) => h('pre.sql', d.sql))));
      if (!report.dryRun) { toast('Promoted'); await load(); }
    } catch (e) {
      clear(promoteResult, errorBox(e));
    }
  }

  await load();
}
