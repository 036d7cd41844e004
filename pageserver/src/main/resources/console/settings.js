// Project settings: retention window, GC now with its report, usage totals.
import * as api from './api.js';
import { h, clear, errorBox, toast } from './dom.js';
import { bytes, time } from './format.js';

export async function settingsPage(ctx) {
  const usage = h('dl.facts');
  const retention = h('input#retention', { type: 'text', 'aria-describedby': 'retention-hint' });
  const retentionProblem = h('div');
  const gcReport = h('div#gc-report');
  const draw = (p) => {
    retention.value = p.retention;
    clear(usage,
      h('dt', 'Project'), h('dd', p.name), h('dt', 'Created'), h('dd', time(p.createdAt)),
      h('dt', 'Branches'), h('dd', p.branches),
      h('dt', 'Layer files'), h('dd', bytes(p.layerBytes)),
      h('dt', 'Pending'), h('dd', bytes(p.pendingBytes), h('span.muted.small', ' in memory and the ingest log')),
      h('dt', 'Retired timelines'), h('dd', p.retiredTimelines, h('span.muted.small', ' kept for a child\'s branch point')));
  };
  const save = async (ev) => {
    ev.preventDefault();
    clear(retentionProblem);
    try {
      draw(await api.patch(api.projectPath(), { retention: retention.value.trim() }));
      toast('Retention window saved');
    } catch (e) {
      clear(retentionProblem, errorBox(e));
    }
  };
  const gc = async (ev) => {
    const button = ev.currentTarget;
    button.disabled = true;
    clear(gcReport, h('p.muted', 'Collecting…'));
    try {
      const r = await api.post(`${api.projectPath()}/gc`);
      clear(gcReport, h('p', `Freed ${bytes(r.bytesFreed)} in ${r.durationMs} ms.`),
        h('div.table-wrap', h('table', h('thead', h('tr', ['Branch', 'Horizon LSN', 'Layers', 'Before', 'After', 'Versions dropped', 'Note']
          .map((t) => h('th', t)))),
        h('tbody', r.timelines.map((t) => h('tr',
          h('td', t.branch ?? `(retired ${t.timeline.slice(0, 8)})`), h('td.mono', t.horizonLsn === '0/0' ? '—' : t.horizonLsn),
          h('td.num', `${t.layerFilesBefore} → ${t.layerFilesAfter}`), h('td.num', bytes(t.bytesBefore)), h('td.num', bytes(t.bytesAfter)),
          h('td.num', t.versionsDropped),
          h('td.muted', t.error ? `failed: ${t.error}` : t.retired ? 'kept for a child\'s branch point'
            : t.windowApplied ? '' : 'younger than the window: compacted only')))))));
      draw(await api.get(api.projectPath()));
    } catch (e) {
      clear(gcReport, errorBox(e));
    } finally {
      button.disabled = false;
    }
  };
  clear(ctx.main,
    h('div.page-head', h('div', h('h1', 'Project settings'), h('div.subtitle', `Project ${api.project.name}`))),
    h('div.grid',
      h('form.panel', { onsubmit: save }, h('h2', 'History retention'),
        h('label.field', { for: 'retention' }, 'Retention window', retention,
          h('span.hint#retention-hint', 'How far back point-in-time branches, restores and time travel reach: 7d, 12h, 30m, 0s.')),
        retentionProblem, h('button.primary', { type: 'submit' }, 'Save')),
      h('div.panel', h('h2', 'Usage'), usage)),
    h('div.panel', h('div.page-head', h('h2', 'Garbage collection'),
      h('button#gc-now', { type: 'button', onclick: gc }, 'Run GC now')),
    h('p.muted', 'Drops page versions older than the window that no branch can read and merges layer files. The server also runs it on its own schedule.'),
    gcReport));
  draw(await api.get(api.projectPath()));
}
