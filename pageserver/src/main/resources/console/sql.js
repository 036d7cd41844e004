// SQL editor: statements run server side on a branch; one result tab per statement.
import * as api from './api.js';
import { h, clear, errorBox } from './dom.js';
import { time } from './format.js';

const HISTORY_KEY = 'pgbranch.sqlHistory';
const HISTORY_SIZE = 40;

function history() {
  try { return JSON.parse(localStorage.getItem(HISTORY_KEY)) || []; } catch { return []; }
}

function remember(entry) {
  const list = history().filter((e) => e.sql !== entry.sql || e.branch !== entry.branch);
  list.unshift(entry);
  localStorage.setItem(HISTORY_KEY, JSON.stringify(list.slice(0, HISTORY_SIZE)));
}

/** 1-based line and column of a 0-based offset in text. */
function lineColumn(text, offset) {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

export async function sqlPage(ctx, params) {
  const branches = (await api.get(`${api.projectPath()}/branches`)).branches;
  const initial = params.get('branch') || (branches.some((b) => b.name === 'development') ? 'development' : branches[0]?.name);
  const branch = h('select#sql-branch', branches.map((b) => h('option', { value: b.name, selected: b.name === initial }, b.name)));
  const database = h('select#sql-database', h('option', 'postgres'));
  const maxRows = h('input#sql-rows', { type: 'number', min: 1, max: 10000, value: 500 });
  const timeout = h('input#sql-timeout', { type: 'number', min: 1, max: 300, value: 30 });
  const explain = h('input#sql-explain', { type: 'checkbox' });
  const travel = h('input#sql-travel', { type: 'checkbox' });
  const point = h('input#sql-point', { type: 'text', placeholder: '2026-11-20T10:00:00Z or 0/16B3748', disabled: true,
    'aria-label': 'Time travel point (time or LSN)', value: new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z') });
  travel.addEventListener('change', () => { point.disabled = !travel.checked; });
  const run = h('button.primary#sql-run', { type: 'button', title: 'Ctrl+Enter' }, '▶ Run');
  const status = h('span.muted.small#sql-status');
  const textarea = h('textarea#sql-text', { 'aria-label': 'SQL statements' });
  const tabs = h('div.tabs#sql-tabs', { role: 'tablist' });
  const result = h('div.result#sql-result', { role: 'tabpanel' }, h('p.muted', 'Results appear here, one tab per statement.'));
  const historyList = h('div.history#sql-history');

  clear(ctx.main,
    h('div.page-head', h('div', h('h1', 'SQL editor'),
      h('div.subtitle', 'Runs on the server as the branch\'s Postgres user; each statement commits on its own (explain rolls back).'))),
    h('div.sql-layout',
      h('div',
        h('div.panel',
          h('div.sql-controls',
            h('label', 'Branch', branch), h('label', 'Database', database),
            h('label', 'Row limit', maxRows), h('label', 'Timeout (s)', timeout),
            h('label.check', explain, 'EXPLAIN ANALYZE'),
            h('label.check', travel, 'Time travel (read-only) at'), point,
            h('div.toolbar', run, status)),
          h('div.editor', textarea),
          tabs, result)),
      h('div.panel', h('h2', 'History'), historyList)));

  const editor = window.CodeMirror.fromTextArea(textarea, {
    mode: 'text/x-pgsql', lineNumbers: true, matchBrackets: true, indentWithTabs: false, smartIndent: false,
    extraKeys: { 'Ctrl-Enter': () => execute(), 'Cmd-Enter': () => execute() },
  });
  editor.setValue(params.get('sql') || '');
  editor.focus();
  let marks = [];

  const loadDatabases = async () => {
    try {
      const { databases } = await api.get(`${api.branchPath(branch.value)}/databases`);
      const keep = database.value;
      clear(database, databases.map((d) => h('option', { value: d, selected: d === keep }, d)));
    } catch (e) {
      status.textContent = `databases: ${e.message}`;
    }
  };
  branch.addEventListener('change', loadDatabases);
  loadDatabases();

  const drawHistory = () => clear(historyList, history().length === 0 ? h('p.muted.small', 'Statements you run are kept in this browser.')
    : history().map((e) => h('button', { type: 'button', onclick: () => {
      branch.value = e.branch; editor.setValue(e.sql); editor.focus(); loadDatabases();
    } }, e.sql.length > 160 ? `${e.sql.slice(0, 160)}…` : e.sql, h('span.when', `${e.branch} · ${time(e.at)}`))));
  drawHistory();

  function show(answer, text, index) {
    [...tabs.children].forEach((t, i) => { t.classList.toggle('active', i === index); t.setAttribute('aria-selected', i === index); });
    const s = answer.statements[index];
    const meta = h('div.meta', `${s.durationMs} ms · ${answer.database}${answer.readOnly ? ` · read-only at ${answer.at}` : ''}`);
    if (s.status === 'ERROR') {
      const where = s.error.position === null || s.error.position === undefined ? null : lineColumn(text, s.error.position);
      clear(result, meta, h('div.callout.error#sql-error', { role: 'alert' },
        h('div', h('span.code', s.error.sqlState ?? ''), s.error.message),
        where ? h('div.small', `at line ${where.line}, column ${where.column}`) : null,
        s.error.detail ? h('div.small', `Detail: ${s.error.detail}`) : null,
        s.error.hint ? h('div.small', `Hint: ${s.error.hint}`) : null),
      h('pre.sql', s.sql));
    } else if (s.status === 'SKIPPED') {
      clear(result, h('p.muted', 'Not run: an earlier statement failed.'), h('pre.sql', s.sql));
    } else if (s.status === 'PLAN') {
      clear(result, meta, h('pre.plan', s.plan), h('p.small.muted', 'EXPLAIN (ANALYZE, BUFFERS) ran the statement in a transaction that was rolled back.'));
    } else if (s.status === 'UPDATE') {
      // JDBC reports 0 for DDL too: a count is shown for the statements that change rows.
      const counts = /^\s*(insert|update|delete|merge|copy)\b/i.test(s.sql) && s.updateCount >= 0;
      clear(result, meta, h('p', counts ? `${s.updateCount} row${s.updateCount === 1 ? '' : 's'} affected.` : 'Done.'));
    } else {
      clear(result, meta,
        s.truncated ? h('div.callout.info', `Showing the first ${s.rows.length} rows (row limit ${answer.maxRows}).`) : null,
        h('div.table-wrap', h('table',
          h('thead', h('tr', s.columns.map((c) => h('th', { title: c.type }, c.name)))),
          h('tbody', s.rows.map((r) => h('tr', r.map((v) => (v === null ? h('td.null', 'NULL') : h('td', v)))))))),
        h('div.meta', `${s.rows.length} row${s.rows.length === 1 ? '' : 's'}`));
    }
  }

  async function execute() {
    const text = editor.getValue();
    marks.forEach((m) => m.clear());
    marks = [];
    run.disabled = true;
    status.textContent = 'Running…';
    const request = { sql: text, database: database.value, maxRows: Number(maxRows.value), timeoutSeconds: Number(timeout.value),
      explain: explain.checked };
    if (travel.checked) request.at = point.value.trim();
    try {
      const answer = await api.post(`${api.branchPath(branch.value)}/sql`, request);
      remember({ sql: text, branch: branch.value, at: new Date().toISOString() });
      drawHistory();
      clear(tabs, answer.statements.map((s, i) => h('button', {
        type: 'button', role: 'tab', class: s.status === 'ERROR' ? 'failed' : '',
        onclick: () => show(answer, text, i),
      }, `${i + 1}. ${s.sql.split(/\s+/).slice(0, 3).join(' ')}${s.status === 'ERROR' ? ' ✕' : ''}`)));
      const failed = answer.statements.findIndex((s) => s.status === 'ERROR');
      if (failed >= 0) {
        const s = answer.statements[failed];
        const from = editor.posFromIndex(s.error.position ?? s.offset);
        const to = s.error.position === null || s.error.position === undefined
          ? editor.posFromIndex(s.offset + s.sql.length) : { line: from.line, ch: from.ch + 1 };
        marks.push(editor.markText(from, to.ch === from.ch && to.line === from.line ? { line: from.line, ch: from.ch + 1 } : to,
          { className: 'cm-error-mark' }));
      }
      show(answer, text, failed >= 0 ? failed : answer.statements.length - 1);
      status.textContent = `${answer.statements.length} statement${answer.statements.length === 1 ? '' : 's'}`;
    } catch (e) {
      clear(tabs);
      clear(result, errorBox(e));
      status.textContent = '';
    } finally {
      run.disabled = false;
    }
  }
  run.addEventListener('click', execute);
}
