// `sensei errors list|show|retry RUN_ID`: review the rows a run queued, and replay them once fixed.
import type { CommandKit } from './kit.js';

export const ERRORS_HELP = `Usage: sensei errors list RUN_ID [--table T] [--all] [--json]
       sensei errors show RUN_ID ENTRY_ID [--json]
       sensei errors retry RUN_ID [--table T] [--transform TABLE.COLUMN=EXPR ...] [--json] [--quiet]

list    the rows a run put in the error queue instead of writing them: id, table, key, column, rule and reason
        (--all also shows entries a retry has since written)
show    one entry in full, with every value of the row as it was staged
retry   replay the queued rows through stage → validate → insert after you fixed the cause; rows that now pass are
        written and leave the queue, the others stay. The run is then verified and its certificate re-issued.
        --transform TABLE.COLUMN=EXPR replaces that column's transformation for the retry and from then on (checked by
        the SQL allow-list; the column's validation rules are dropped, a failing cast still queues the row).

The values are stored encrypted (AES-256-GCM) and decrypted here with SENSEI_ENCRYPTION_KEY or the key file in
SENSEI_HOME/keys. Exit codes: 0 done (retry: every row written); 1 rows still queued after a retry or it failed.`;

export async function cmdErrors(argv: string[], kit: CommandKit): Promise<number> {
  const { values, positionals } = kit.args(
    argv,
    { json: { type: 'boolean' }, table: { type: 'string' }, all: { type: 'boolean' }, transform: { type: 'string', multiple: true }, quiet: { type: 'boolean' } },
    'errors',
  );
  if (values.help) return kit.help('errors');
  const [sub, runId, entryId] = positionals;
  const json = Boolean(values.json);
  const out = (text: string): void => void process.stdout.write(text);
  if (sub === 'list' && runId) {
    return kit.withStore(async (store) => {
      const entries = (await store.listErrors(runId, { includeResolved: Boolean(values.all) })).filter((e) => !values.table || e.table === values.table);
      if (json) out(`${JSON.stringify({ run_id: runId, errors: entries }, null, 2)}\n`);
      else {
        out(`${entries.length} queued row(s) for run ${runId}\n`);
        for (const e of entries) out(`  #${e.id} ${e.table} ${JSON.stringify(e.key)} column ${e.column ?? '-'} [${e.rule}]${e.resolvedAt ? ' (written by a retry)' : ''} ${e.reason}\n`);
      }
      return 0;
    });
  }
  if (sub === 'show' && runId && entryId) {
    return kit.withStore(async (store) => {
      const entry = (await store.listErrors(runId, { includeResolved: true })).find((e) => String(e.id) === entryId);
      if (!entry) throw kit.usageError(`run ${runId} has no queued entry #${entryId}`, 'errors');
      if (json) out(`${JSON.stringify({ run_id: runId, error: entry }, null, 2)}\n`);
      else {
        out(`#${entry.id} ${entry.table} ${JSON.stringify(entry.key)}${entry.resolvedAt ? `  (written by a retry at ${entry.resolvedAt})` : ''}\n`);
        out(`  column ${entry.column ?? '-'}, rule ${entry.rule}, caught at ${entry.stage}\n  ${entry.reason}\n  row:\n`);
        for (const [k, v] of Object.entries((entry.row ?? {}) as Record<string, unknown>)) out(`    ${k} = ${v === null ? 'NULL' : JSON.stringify(v)}\n`);
      }
      return 0;
    });
  }
  if (sub === 'retry' && runId) {
    const transforms: Record<string, string> = {};
    for (const t of (values.transform as unknown as string[] | undefined) ?? []) {
      const at = t.indexOf('=');
      if (at <= 0) throw kit.usageError(`--transform ${t}: write it as TABLE.COLUMN=EXPRESSION`, 'errors');
      transforms[t.slice(0, at)] = t.slice(at + 1);
    }
    return kit.withRuntime(Boolean(values.quiet || json), async (rt) => {
      const r = await rt.retryErrors(runId, { ...(values.table ? { table: String(values.table) } : {}), transforms });
      if (json) {
        out(`${JSON.stringify({ run_id: runId, retried: r.retried, written: r.written, still_queued: r.stillQueued, verification_passed: r.verificationPassed, certificate: r.certificatePath }, null, 2)}\n`);
      } else {
        out(`Retried ${r.retried} queued row(s) of run ${runId}: ${r.written} written, ${r.stillQueued} still queued\n`);
        for (const t of r.tables) for (const f of t.failed.slice(0, 20)) out(`  #${f.id} ${t.table} ${JSON.stringify(f.entry.key)} [${f.entry.rule}] ${f.entry.reason}\n`);
        out(r.certificatePath ? `Certificate re-issued: ${r.certificatePath}\n` : 'Verification failed: no certificate issued\n');
      }
      return r.stillQueued === 0 && r.verificationPassed ? 0 : 1;
    });
  }
  throw kit.usageError('usage: sensei errors list|show|retry RUN_ID …', 'errors');
}
