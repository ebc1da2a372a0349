// A readable, self-contained HTML page for a certificate. The JSON file stays the signed original.
import type { Certificate } from '../../core/certificate.js';

const esc = (v: unknown): string =>
  String(v ?? '—').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const row = (cells: unknown[], tag = 'td'): string => `<tr>${cells.map((c) => `<${tag}>${esc(c)}</${tag}>`).join('')}</tr>`;

export function renderCertificateHtml(cert: Certificate): string {
  const p = cert.payload;
  const checks = p.verification.checks
    .map((c) => row([c.perspective, c.check, c.passed ? 'passed' : 'FAILED', c.checked, c.findings.length]))
    .join('');
  const tables = p.tables
    .map((t) => row([t.source, t.target, t.rows_read, t.rows_written, t.rows_errored, t.rows_captured, t.captured_root?.slice(0, 16), t.target_root.slice(0, 16)]))
    .join('');
  const exceptions = p.exceptions.map((e) => row([e.table, e.count, e.reason, e.approved_by])).join('') || row(['none', '', '', '']);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sensei certificate ${esc(p.run_id)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}code{word-break:break-all}</style>
</head><body>
<h1>Behavioral Equivalence Certificate</h1>
<p>Run <code>${esc(p.run_id)}</code>, issued ${esc(p.issued_at)}, source captured ${esc(p.captured_at)}.</p>
<p>${esc(p.source.dialect)} <b>${esc(p.source.database)}</b> → ${esc(p.target.dialect)} <b>${esc(p.target.database)}</b>; approved by ${esc(p.approval.by)} at ${esc(p.approval.at)}.</p>
<h2>Verification: ${p.verification.passed ? 'passed' : 'FAILED'}</h2>
<table>${row(['perspective', 'check', 'result', 'checked', 'findings'], 'th')}${checks}</table>
<h2>Tables</h2>
<table>${row(['source', 'target', 'read', 'written', 'queued', 'captured', 'captured root', 'target root'], 'th')}${tables}</table>
<h2>Coverage</h2>
<table>${Object.entries(p.coverage).map(([k, v]) => row([k, v])).join('')}</table>
<h2>Exceptions</h2>
<table>${row(['table', 'rows', 'reason', 'approved by'], 'th')}${exceptions}</table>
<h2>Hash chain and signature</h2>
<p>Final link <code>${esc(p.chain.final)}</code></p>
<p>Ed25519 key fingerprint <code>${esc(cert.signature.key_fingerprint)}</code></p>
<p>This page is a rendering. Check the signed JSON file with <code>sensei certificate verify FILE [--target URL]</code>.</p>
</body></html>
`;
}
