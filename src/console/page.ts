/**
 * The console page: one HTML document, one stylesheet and one script, all served by the
 * console itself (no CDN, nothing inline, so the Content-Security-Policy allows scripts
 * and styles from `'self'` only).
 *
 * Implementation note. The script keeps the state the feed describes: `hello` gives the
 * whole state, each `update` is applied with the server's own `applyUpdate` (its source is
 * embedded below, one copy for both sides), a `snapshot` replaces the state after the
 * client dropped frames. It renders at most once per animation frame. Record keeps the
 * events received (a `hello` with the state at the start, then every update) and Save
 * writes them as JSON lines; Load reads such a file and replays it in the same page, with
 * a slider over its frames. Every user string goes through `esc()` before it reaches
 * `innerHTML`.
 */
import { applyUpdate } from './diff.js';

/** The Content-Security-Policy of every console response. */
export const CONSOLE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function attr(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page, with the token in the asset links (the token is checked on every request). */
export function consoleHtml(token: string): string {
  const q = `?token=${attr(encodeURIComponent(token))}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">
<title>Zokio console</title><link rel="stylesheet" href="/app.css${q}"></head>
<body>
<header>
  <h1>Zokio console</h1><span id="runtime" class="muted"></span>
  <span id="status" class="badge">connecting</span><span id="seq" class="muted"></span>
  <span class="spacer"></span>
  <button id="record" type="button">Record</button><button id="save" type="button" disabled>Save</button>
  <label class="button">Load<input id="load" type="file" accept=".jsonl,.json,application/json"></label>
  <button id="live" type="button" hidden>Back to live</button>
  <input id="frame" type="range" min="0" max="0" value="0" hidden><span id="frame-label" class="muted"></span>
</header>
<section id="warnings" class="panel"><h2>Warnings</h2><ul id="warning-list"></ul></section>
<main>
  <section class="panel wide"><h2>Tasks <span id="task-count" class="muted"></span></h2>
    <div class="controls"><input id="filter" type="search" placeholder="filter: name, id, state, scope">
      <select id="sort"><option value="id">sort: id</option><option value="name">sort: name</option><option value="state">sort: state</option><option value="age">sort: age</option></select></div>
    <table id="tasks"><thead><tr><th>id</th><th>name</th><th>state</th><th>age</th><th>busy</th><th>warnings</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="panel wide"><h2>Pool lanes</h2><table id="pool"><thead><tr><th>worker</th><th>executed</th><th>exec/s</th><th>stolen/s</th><th>parked/s</th><th>deque</th><th>inbox</th><th>ELU</th></tr></thead><tbody></tbody></table><p id="pool-summary" class="muted"></p></section>
  <section class="panel"><h2>Queues and timers</h2><table id="queues"><tbody></tbody></table></section>
  <section class="panel"><h2>Sync resources</h2><table id="resources"><thead><tr><th>id</th><th>kind</th><th>permits</th><th>holders</th><th>waiters</th><th>length/cap</th><th>closed</th></tr></thead><tbody></tbody></table></section>
  <section class="panel"><h2>HTTP</h2><table id="http"><tbody></tbody></table><div id="latency" class="bars"></div></section>
  <section class="panel"><h2>Main thread</h2><table id="process"><tbody></tbody></table></section>
  <section class="panel wide"><h2>Recent spans</h2><canvas id="flame" width="1200" height="120"></canvas></section>
</main>
<script src="/app.js${q}"></script>
</body></html>`;
}

/** The stylesheet. */
export const CONSOLE_CSS = `
:root{--bg:#0f1419;--panel:#182029;--fg:#d8dee9;--muted:#7b8794;--accent:#5fb3f9;--warn:#f5a524;--bad:#f25f5c;--ok:#6cc551}
*{box-sizing:border-box}body{margin:0;font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--bg);color:var(--fg)}
header{display:flex;gap:.6rem;align-items:center;padding:.5rem 1rem;background:#0b0f13;border-bottom:1px solid #263241;flex-wrap:wrap}
h1{font-size:15px;margin:0;color:var(--accent)}h2{font-size:13px;margin:0 0 .4rem;color:var(--accent)}
.muted{color:var(--muted)}.spacer{flex:1}.badge{padding:0 .4rem;border-radius:3px;background:#263241}
.badge.live{background:#1e4620;color:var(--ok)}.badge.replay{background:#4a3a10;color:var(--warn)}.badge.down{background:#4a1c1c;color:var(--bad)}
button,.button{background:#263241;color:var(--fg);border:1px solid #334155;border-radius:3px;padding:.15rem .6rem;font:inherit;cursor:pointer}
button:disabled{opacity:.5;cursor:default}.button input{display:none}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:.6rem;padding:.6rem}
.panel{background:var(--panel);border:1px solid #263241;border-radius:4px;padding:.5rem .7rem;overflow:auto}
.wide{grid-column:1/-1}#warnings{margin:.6rem .6rem 0}#warning-list{margin:0;padding-left:1.2rem}
#warning-list li{color:var(--warn)}#warning-list li.none{color:var(--muted);list-style:none}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.1rem .5rem;border-bottom:1px solid #222c37;white-space:nowrap}
th{color:var(--muted);font-weight:normal}tr.scope td{color:var(--accent);padding-top:.4rem}
td.num{text-align:right}#process td,#http td,#queues td{white-space:normal}.state-running{color:var(--ok)}.state-pending{color:var(--muted)}.state-failed{color:var(--bad)}.state-aborted{color:var(--warn)}
td.warn{color:var(--warn)}.controls{display:flex;gap:.5rem;margin-bottom:.4rem}
input[type=search],select{background:#0b0f13;color:var(--fg);border:1px solid #334155;border-radius:3px;padding:.15rem .4rem;font:inherit}
input[type=search]{flex:1}.bars{display:flex;align-items:flex-end;gap:2px;height:60px;margin-top:.4rem}
.bars div{flex:1;background:var(--accent);min-height:1px}.bars span{display:block}
canvas{width:100%;height:120px;background:#0b0f13;border-radius:3px}
`;

/** The script (plain JavaScript; `applyUpdate` is the server's function, embedded). */
export function consoleScript(): string {
  return `'use strict';
const applyUpdate = (${applyUpdate.toString()});
(function () {
  const SPAN_LIMIT = 2000;
  const token = new URLSearchParams(location.search).get('token') || '';
  const $ = (id) => document.getElementById(id);
  const esc = (v) => String(v).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
  const fmtMs = (ms) => ms < 1000 ? Math.round(ms) + ' ms' : ms < 60000 ? (ms / 1000).toFixed(1) + ' s' : Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
  const fmtBytes = (b) => b > 1048576 ? (b / 1048576).toFixed(1) + ' MiB' : (b / 1024).toFixed(1) + ' KiB';
  let state = null, report = null, source = null, recording = null, replay = null, scheduled = false;
  const STATE_ORDER = { running: 0, pending: 1, done: 2, failed: 3, aborted: 4 };

  function status(text, cls) { const s = $('status'); s.textContent = text; s.className = 'badge ' + cls; }
  function schedule() { if (!scheduled) { scheduled = true; requestAnimationFrame(() => { scheduled = false; render(); }); } }
  function record(event, data) { if (recording !== null) { recording.push(JSON.stringify({ event, data })); $('save').disabled = false; } }

  function onHello(e) {
    const hello = JSON.parse(e.data);
    report = hello.report;
    if (hello.state) state = hello.state;
    schedule();
  }
  function onUpdate(e) {
    const update = JSON.parse(e.data);
    if (state === null) return;
    state = applyUpdate(state, update, SPAN_LIMIT);
    record('update', update);
    schedule();
  }
  function onSnapshot(e) { state = JSON.parse(e.data); record('snapshot', state); schedule(); }

  function connect() {
    source = new EventSource('/api/v1/stream?token=' + encodeURIComponent(token));
    source.addEventListener('hello', onHello);
    source.addEventListener('update', onUpdate);
    source.addEventListener('snapshot', onSnapshot);
    source.onopen = () => status('live', 'live');
    source.onerror = () => status('reconnecting', 'down');
  }

  function render() {
    const s = state;
    if (s === null) return;
    if (report) $('runtime').textContent = report.flavor + (report.workers ? ' · ' + report.workers + ' workers' : '') + ' · io ' + (report.io ? report.io.backend : '?');
    $('seq').textContent = 'seq ' + s.seq;
    renderWarnings(s); renderTasks(s); renderPool(s); renderQueues(s); renderResources(s); renderHttp(s); renderProcess(s); renderFlame(s);
  }

  function renderWarnings(s) {
    const list = s.warnings.length === 0 ? '<li class="none">none</li>' : s.warnings.map((w) => '<li data-kind="' + esc(w.kind) + '">' + esc(w.message) + '</li>').join('');
    $('warning-list').innerHTML = list;
  }

  function renderTasks(s) {
    const filter = $('filter').value.trim().toLowerCase();
    const sort = $('sort').value;
    const rows = Object.values(s.tasks).filter((t) => filter === '' || (String(t.id) + ' ' + (t.name || '') + ' ' + t.state + ' ' + (t.scope === 0 ? 'runtime' : 'scope #' + t.scope)).toLowerCase().includes(filter));
    const cmp = sort === 'name' ? (a, b) => String(a.name || '').localeCompare(String(b.name || '')) || a.id - b.id
      : sort === 'state' ? (a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || a.id - b.id
      : sort === 'age' ? (a, b) => a.spawnedAt - b.spawnedAt || a.id - b.id
      : (a, b) => a.id - b.id;
    const scopes = new Map();
    for (const t of rows) { if (!scopes.has(t.scope)) scopes.set(t.scope, []); scopes.get(t.scope).push(t); }
    const html = [];
    for (const scope of [...scopes.keys()].sort((a, b) => a - b)) {
      const tasks = scopes.get(scope).sort(cmp);
      html.push('<tr class="scope" data-scope="' + scope + '"><td colspan="6">' + (scope === 0 ? 'runtime' : 'scope #' + scope) + ' · ' + tasks.length + ' task(s)</td></tr>');
      for (const t of tasks) {
        html.push('<tr data-task-id="' + t.id + '"><td class="num">' + t.id + '</td><td class="name">' + esc(t.name === null ? '' : t.name) + '</td><td class="state state-' + esc(t.state) + '">' + esc(t.state) + '</td><td class="num">' + fmtMs(s.time - t.spawnedAt) + '</td><td class="num">' + (t.busyMs === null ? '—' : fmtMs(t.busyMs)) + '</td><td class="warn">' + esc(t.warnings.join(', ')) + '</td></tr>');
      }
    }
    $('tasks').tBodies[0].innerHTML = html.join('');
    $('task-count').textContent = rows.length + ' shown' + (s.console.tasksNotShown > 0 ? ', ' + s.console.tasksNotShown + ' more not shown (retention)' : '');
  }

  function renderPool(s) {
    const p = s.pool;
    if (p === null) { $('pool').tBodies[0].innerHTML = ''; $('pool-summary').textContent = 'no worker pool (not configured or not started yet)'; return; }
    $('pool').tBodies[0].innerHTML = p.workers.map((w) => '<tr data-worker="' + w.index + '"' + (w.alive ? '' : ' class="state-failed"') + '><td>worker ' + w.index + '</td><td class="num executed">' + w.executed + '</td><td class="num">' + w.executedPerSec + '</td><td class="num">' + w.stolenPerSec + '</td><td class="num">' + w.parkedPerSec + '</td><td class="num">' + w.dequeDepth + '</td><td class="num">' + w.inboxDepth + '</td><td class="num">' + (w.elu === null ? '—' : w.elu) + '</td></tr>').join('');
    $('pool-summary').textContent = 'injector ' + p.injectorDepth + ' · pending ' + p.pending + ' · overflow ' + p.overflow + ' · restarts ' + p.restarts;
  }

  function kv(pairs) { return pairs.map((p) => '<tr><th>' + esc(p[0]) + '</th><td class="num" data-key="' + esc(p[0]) + '">' + esc(p[1]) + '</td></tr>').join(''); }

  function renderQueues(s) {
    const q = s.queues;
    $('queues').tBodies[0].innerHTML = kv([['local tasks alive', q.localAlive], ['local tasks queued', q.localQueued], ['spawned/s', q.spawnedPerSec], ['timers armed', q.timersArmed], ['timers fired/s', q.timersFiredPerSec]]);
  }

  function renderResources(s) {
    const rows = Object.values(s.resources).sort((a, b) => a.id - b.id);
    const d = (v) => v === null ? '—' : v;
    $('resources').tBodies[0].innerHTML = rows.map((r) => '<tr data-resource-id="' + r.id + '" data-kind="' + esc(r.kind) + '"><td class="num">' + r.id + '</td><td>' + esc(r.kind) + '</td><td class="num permits">' + d(r.permits) + '</td><td class="num holders">' + d(r.holders) + '</td><td class="num waiters">' + r.waiters + '</td><td class="num">' + (r.length === null ? '—' : r.length + '/' + (r.capacity === null ? '∞' : r.capacity)) + '</td><td>' + esc(r.closed.join(', ')) + '</td></tr>').join('');
  }

  function renderHttp(s) {
    const h = s.http;
    $('http').tBodies[0].innerHTML = kv([['requests', h.requests], ['requests/s', h.perSec], ['in flight', h.inFlight], ['2xx / 3xx', h.status['2xx'] + ' / ' + h.status['3xx']], ['4xx / 5xx / errors', h.status['4xx'] + ' / ' + h.status['5xx'] + ' / ' + h.status.error]]);
    const max = Math.max(1, ...h.latencyCounts);
    const bars = $('latency');
    bars.replaceChildren(...h.latencyCounts.map((c, i) => { const b = document.createElement('div'); b.style.height = Math.round((c / max) * 100) + '%'; b.title = (i < h.latencyBoundsMs.length ? '≤ ' + h.latencyBoundsMs[i] + ' ms' : '> ' + h.latencyBoundsMs[h.latencyBoundsMs.length - 1] + ' ms') + ': ' + c; return b; }));
  }

  function renderProcess(s) {
    const p = s.process;
    $('process').tBodies[0].innerHTML = kv([['loop delay p50 / p99 / max', p.loopDelayP50Ms + ' / ' + p.loopDelayP99Ms + ' / ' + p.loopDelayMaxMs + ' ms'], ['event-loop utilisation', p.elu], ['rss', fmtBytes(p.rss)], ['heap used / total', fmtBytes(p.heapUsed) + ' / ' + fmtBytes(p.heapTotal)], ['console tick', s.console.tickMs + ' ms · ' + s.console.clients + ' client(s) · ' + s.console.dropped + ' dropped']]);
  }

  function renderFlame(s) {
    const canvas = $('flame');
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    canvas.width = canvas.clientWidth || 1200;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const spans = s.spans;
    if (spans.length === 0) { ctx.fillStyle = '#7b8794'; ctx.font = '12px monospace'; ctx.fillText('no spans (tracing off, or none ended yet)', 8, 20); return; }
    const lanes = [...new Set(spans.map((x) => x.tid))].sort((a, b) => a - b);
    const names = new Map(spans.map((x) => [x.tid, x.thread]));
    const end = Math.max(...spans.map((x) => x.start + x.dur));
    const start = Math.max(Math.min(...spans.map((x) => x.start)), end - 10000);
    const lane = Math.max(12, Math.floor((canvas.height - 4) / lanes.length));
    const label = 90, width = canvas.width - label - 4, scale = width / Math.max(1, end - start);
    ctx.font = '11px monospace';
    lanes.forEach((tid, i) => {
      ctx.fillStyle = '#7b8794'; ctx.fillText(String(names.get(tid)).slice(0, 12), 4, i * lane + lane - 3);
      for (const x of spans) {
        if (x.tid !== tid || x.start + x.dur < start) continue;
        ctx.fillStyle = x.dur > 50 ? '#f5a524' : '#5fb3f9';
        ctx.fillRect(label + (x.start - start) * scale, i * lane + 2, Math.max(1, x.dur * scale), lane - 4);
      }
    });
  }

  $('filter').addEventListener('input', schedule);
  $('sort').addEventListener('change', schedule);
  $('record').addEventListener('click', () => {
    if (recording === null) {
      recording = [JSON.stringify({ event: 'hello', data: { schema: 'zokio.console/1', seq: state ? state.seq : 0, report, state } })];
      $('record').textContent = 'Stop';
      $('save').disabled = false;
    } else {
      $('record').textContent = 'Record';
      stopped = recording; recording = null;
    }
  });
  let stopped = null;
  $('save').addEventListener('click', () => {
    const lines = recording !== null ? recording : stopped;
    if (lines === null) return;
    const blob = new Blob([lines.join('\\n') + '\\n'], { type: 'application/x-ndjson' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'zokio-console-' + new Date().toISOString().replace(/[:.]/g, '-') + '.jsonl';
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  });
  function replayAt(index) {
    let s = null;
    for (let i = 0; i <= index && i < replay.length; i++) {
      const { event, data } = replay[i];
      if (event === 'hello') { if (data.state) s = data.state; if (data.report) report = data.report; }
      else if (event === 'snapshot') s = data;
      else if (event === 'update' && s !== null) s = applyUpdate(s, data, SPAN_LIMIT);
    }
    state = s;
    $('frame').value = String(index);
    $('frame-label').textContent = 'frame ' + (index + 1) + ' / ' + replay.length;
    schedule();
  }
  $('load').addEventListener('change', async () => {
    const file = $('load').files[0];
    if (!file) return;
    const text = await file.text();
    const events = text.split('\\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
    if (events.length === 0) return;
    if (source !== null) { source.close(); source = null; }
    replay = events;
    status('replay', 'replay');
    $('frame').max = String(events.length - 1); $('frame').hidden = false; $('live').hidden = false;
    replayAt(events.length - 1);
  });
  $('frame').addEventListener('input', () => replayAt(Number($('frame').value)));
  $('live').addEventListener('click', () => {
    replay = null; $('frame').hidden = true; $('live').hidden = true; $('frame-label').textContent = '';
    state = null; status('connecting', ''); connect();
  });
  connect();
})();
`;
}
