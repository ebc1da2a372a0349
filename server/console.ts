// The web console served at `/`: chat with AMANI, the plan coloured by band, approve/modify, live progress, the
// verification's findings with waive/revoke, certificate.
export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sensei console</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px system-ui, sans-serif; margin: 1rem; color: #222; }
  header { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
  input, button, select { font: inherit; padding: .25rem .5rem; }
  main { display: grid; grid-template-columns: 2fr 1fr; gap: 1rem; margin-top: 1rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { border-bottom: 1px solid #ddd; padding: .25rem .4rem; text-align: left; vertical-align: top; }
  tr.auto { background: #e8f6e8; } tr.review { background: #fff6d6; } tr.explicit { background: #fde2e2; } tr.approved { background: #e3ecfb; }
  #chat { border: 1px solid #ccc; height: 22rem; overflow-y: auto; padding: .5rem; white-space: pre-wrap; }
  .from { font-weight: 600; } .error { color: #a00; } .reply { color: #035; }
  #progress div { margin: .2rem 0; } progress { width: 60%; }
  #findings tr.waived { background: #e3ecfb; } #findings code { font-size: 12px; }
  #findings-error:empty, #findings-note:empty { display: none; }
</style>
</head>
<body>
<header>
  <strong>Sensei</strong>
  <label>Token <input id="token" type="password" size="30" autocomplete="off"></label>
  <label>Run <input id="run" size="28" placeholder="run_…"></label>
  <button id="open">Open run</button>
  <span id="status" aria-live="polite">not connected</span>
  <a id="certificate" href="#" hidden>Download certificate</a>
</header>
<main>
  <section>
    <h2>Plan</h2>
    <table id="plan"><thead><tr><th>source</th><th>target</th><th>confidence</th><th>band</th><th>transformation</th><th></th></tr></thead><tbody></tbody></table>
    <h2>Progress</h2>
    <div id="progress"></div>
    <h2>Findings</h2>
    <p id="findings-summary">not verified yet</p>
    <p id="findings-note"></p>
    <p id="findings-error" class="error" role="alert"></p>
    <table id="findings"><thead><tr><th>id</th><th>code</th><th>path</th><th>message</th><th>waiver</th><th></th></tr></thead><tbody></tbody></table>
  </section>
  <section>
    <h2>AMANI</h2>
    <div id="chat" role="log"></div>
    <form id="say"><input id="text" size="40" placeholder="e.g. approve all in authors, why is name low?" autocomplete="off"> <button>Send</button></form>
  </section>
</main>
<script>
const $ = (id) => document.getElementById(id);
let ws = null;
const log = (cls, who, text) => {
  const div = document.createElement('div');
  div.className = cls;
  if (who) { const b = document.createElement('span'); b.className = 'from'; b.textContent = who + ': '; div.append(b); }
  div.append(document.createTextNode(text));
  $('chat').append(div);
  $('chat').scrollTop = $('chat').scrollHeight;
};
const send = (msg) => { if (!ws || ws.readyState !== 1) return false; ws.send(JSON.stringify(msg)); return true; };
// The latest findings message, and the waive or revoke this page sent and has no answer to yet.
let findings = null;
let pendingWaiver = null;
const findingsError = (text) => { $('findings-error').textContent = text; };
function renderFindings() {
  const body = $('findings').querySelector('tbody');
  // Reasons being typed survive a re-render (another stakeholder's waiver arrives while one types).
  const typed = new Map([...body.querySelectorAll('tr')].map((tr) => [tr.dataset.finding, tr.querySelector('input.reason')?.value ?? '']));
  body.textContent = '';
  $('findings-note').textContent = '';
  if (!findings) { $('findings-summary').textContent = 'not verified yet'; return; }
  $('findings-summary').textContent = findings.verified_at
    ? 'Verified ' + findings.verified_at + ': ' + (findings.passed ? 'passed' : 'failed') + ', ' + findings.findings.length + ' finding(s)'
    : 'not verified yet';
  const may = new Set(findings.may_waive);
  if (findings.findings.length > 0 && may.size === 0) $('findings-note').textContent = 'Read-only: your token may not waive these findings.';
  for (const f of findings.findings) {
    const tr = document.createElement('tr');
    tr.dataset.finding = f.id;
    tr.className = f.waiver ? 'waived' : 'unwaived';
    for (const v of [f.id, f.code, f.path.join(' › '), f.message]) {
      const td = document.createElement('td'); td.textContent = v; tr.append(td);
    }
    const state = document.createElement('td');
    state.className = 'waiver';
    state.textContent = f.waiver ? 'waived (#' + f.waiver.id + ') by ' + f.waiver.approved_by + ': ' + f.waiver.reason : 'not waived';
    tr.append(state);
    const td = document.createElement('td');
    if (may.has(f.id) && !f.waiver) {
      const reason = document.createElement('input'); reason.className = 'reason'; reason.size = 24; reason.placeholder = 'reason (required)'; reason.value = typed.get(f.id) ?? '';
      const b = document.createElement('button'); b.textContent = 'Waive'; b.className = 'waive';
      b.onclick = () => {
        const text = reason.value.trim();
        if (!text) {
          reason.setAttribute('aria-invalid', 'true');
          reason.focus();
          return findingsError('Give a reason to waive finding ' + f.id + ' (required); nothing was sent.');
        }
        submitWaiver({ type: 'waive', finding: f.id, reason: text }, { finding: f.id });
      };
      td.append(reason, ' ', b);
    } else if (may.has(f.id) && f.waiver) {
      const b = document.createElement('button'); b.textContent = 'Revoke'; b.className = 'revoke';
      b.onclick = () => submitWaiver({ type: 'revoke_waiver', waiver_id: f.waiver.id }, { waiver: f.waiver.id });
      td.append(b);
    }
    tr.append(td);
    body.append(tr);
  }
}
function submitWaiver(msg, pending) {
  findingsError('');
  if (!send(msg)) return findingsError('Not connected: open the run again, then retry.');
  pendingWaiver = pending;
  for (const b of $('findings').querySelectorAll('button')) b.disabled = true;
}
// A waiver broadcast (this page's or another stakeholder's) updates the list in place.
function applyWaiver(msg) {
  const f = findings?.findings.find((x) => x.id === msg.waiver.finding_id);
  if (!f) { send({ type: 'findings' }); return; }
  if (msg.change === 'added') f.waiver = msg.waiver;
  else if (f.waiver?.id === msg.waiver.id) f.waiver = null;
  if (pendingWaiver && (pendingWaiver.finding === msg.waiver.finding_id || pendingWaiver.waiver === msg.waiver.id)) { pendingWaiver = null; findingsError(''); }
  renderFindings();
}
function renderPlan(msg) {
  const body = $('plan').querySelector('tbody');
  body.textContent = '';
  const pending = new Set(msg.pending.map((p) => p.sourceTable + '.' + p.sourceColumn + '->' + p.targetTable + '.' + p.targetColumn));
  const approved = new Set(msg.approved);
  for (const t of msg.plan.tables) for (const m of t.columns) {
    const key = m.sourceTable + '.' + m.sourceColumn + '->' + m.targetTable + '.' + m.targetColumn;
    const tr = document.createElement('tr');
    tr.className = approved.has(key) ? 'approved' : m.band;
    tr.dataset.key = key;
    for (const v of [m.sourceTable + '.' + m.sourceColumn, m.targetTable + '.' + m.targetColumn, m.confidence.toFixed(2), approved.has(key) ? 'approved' : m.band, m.transformation]) {
      const td = document.createElement('td'); td.textContent = v; tr.append(td);
    }
    const td = document.createElement('td');
    if (pending.has(key)) {
      const ok = document.createElement('button'); ok.textContent = 'Approve'; ok.className = 'approve';
      ok.onclick = () => send({ type: 'action', action: 'approve', table: m.sourceTable, column: m.sourceColumn });
      const to = document.createElement('input'); to.size = 12; to.placeholder = 'target column'; to.className = 'retarget';
      const mod = document.createElement('button'); mod.textContent = 'Map'; mod.className = 'modify';
      mod.onclick = () => to.value && send({ type: 'action', action: 'modify', table: m.sourceTable, column: m.sourceColumn, target_column: to.value });
      td.append(ok, ' ', to, mod);
    }
    tr.append(td);
    body.append(tr);
  }
}
function renderProgress(p) {
  const id = p.stage + ':' + p.table;
  let row = document.querySelector('#progress [data-id="' + CSS.escape(id) + '"]');
  if (!row) { row = document.createElement('div'); row.dataset.id = id; row.dataset.stage = p.stage; row.innerHTML = '<span></span> <progress max="1" value="0"></progress>'; $('progress').append(row); }
  // Capture reads the source for verification before anything is written; execution loads the target.
  row.querySelector('span').textContent = p.stage === 'execute'
    ? p.table + ': ' + p.rows_written + ' written, ' + p.rows_errored + ' queued of ' + p.rows_total + (p.done ? ' ✓' : '')
    : p.table + ': ' + p.rows_read + ' of ' + p.rows_total + ' read for verification (' + p.stage + ')' + (p.done ? ' ✓' : '');
  row.querySelector('progress').max = Math.max(p.rows_total, 1);
  row.querySelector('progress').value = p.rows_read;
}
async function downloadCertificate(ev) {
  ev.preventDefault();
  const res = await fetch('/runs/' + encodeURIComponent($('run').value) + '/certificate', { headers: { authorization: 'Bearer ' + $('token').value } });
  if (!res.ok) { log('error', null, 'certificate: ' + res.status); return; }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a'); a.href = url; a.download = $('run').value + '.json'; a.click();
}
$('certificate').onclick = downloadCertificate;
$('open').onclick = () => {
  if (ws) ws.close();
  findings = null; pendingWaiver = null; findingsError(''); renderFindings();
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/runs/' + encodeURIComponent($('run').value) + '?token=' + encodeURIComponent($('token').value);
  ws = new WebSocket(url);
  ws.onopen = () => { $('status').textContent = 'connected'; };
  ws.onclose = (e) => { $('status').textContent = 'disconnected' + (e.code === 1008 ? ' (token refused)' : e.reason ? ' (' + e.reason + ')' : ''); };
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.type === 'plan') renderPlan(msg);
    else if (msg.type === 'status') {
      $('status').textContent = msg.status + ' (' + msg.stage + ')';
      $('status').dataset.status = msg.status;
      $('certificate').hidden = msg.status !== 'completed';
      // On connecting and whenever the run moves on: a verification may have run since.
      send({ type: 'findings' });
    } else if (msg.type === 'progress') renderProgress(msg);
    else if (msg.type === 'retry') log('error', null, msg.table + ': ' + msg.reason + '; retry ' + msg.attempt + ' of ' + msg.of + ' in ' + (msg.in_ms / 1000).toFixed(1) + ' s');
    else if (msg.type === 'message') log('message', msg.from, msg.text);
    else if (msg.type === 'reply') log('reply', 'AMANI', msg.text);
    else if (msg.type === 'findings') { findings = msg; renderFindings(); }
    else if (msg.type === 'waiver') applyWaiver(msg);
    else if (msg.type === 'error') {
      log('error', null, msg.message);
      // Errors go to their sender only: one arriving while a waive or revoke is unanswered is its refusal.
      if (pendingWaiver) {
        pendingWaiver = null;
        findingsError(msg.message);
        // The list may be stale (e.g. verified again since): fetch it again.
        send({ type: 'findings' });
      }
    }
  };
};
$('say').onsubmit = (ev) => { ev.preventDefault(); const text = $('text').value.trim(); if (text) { send({ type: 'message', text }); $('text').value = ''; } };
</script>
</body>
</html>
`;
