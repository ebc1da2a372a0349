// The web console served at `/`: chat with AMANI, the plan coloured by band, approve/modify, live progress, certificate.
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
const send = (msg) => { if (ws && ws.readyState === 1) ws.send(JSON.stringify(msg)); };
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
    } else if (msg.type === 'progress') renderProgress(msg);
    else if (msg.type === 'message') log('message', msg.from, msg.text);
    else if (msg.type === 'reply') log('reply', 'AMANI', msg.text);
    else if (msg.type === 'error') log('error', null, msg.message);
  };
};
$('say').onsubmit = (ev) => { ev.preventDefault(); const text = $('text').value.trim(); if (text) { send({ type: 'message', text }); $('text').value = ''; } };
</script>
</body>
</html>
`;
