// `sensei verify RUN_ID`: run verification of a finished run again, against the source as it was captured.
import { ConfigError } from '../../core/errors.js';
import type { VerificationReport } from '../../core/findings.js';
import { parseCommandArgs, type CommandContext } from './context.js';

export const VERIFY_HELP = `Usage: sensei verify RUN_ID [--certify] [--json]

Verifies a run's target again: structure against the approved plan, row counts, foreign keys, every row against the
source as it was captured before execution (bucket hashes, bisected to the key of each missing, extra or changed row),
column statistics, the configuration's business rules and replayed queries. Findings approved as exceptions
(sensei waiver add) are listed as waived and do not fail the run. The result is stored (kept for
retention.validation_years). Exit 0 when everything passes, 4 when a check fails.

Options:
  --certify   when it passes, issue the run's certificate again (waivers go into its exceptions, with who approved them)
  --json      print the report: { run_id, passed, checks: [{ perspective, check, passed, checked, findings }],
              waived?: [{ finding, waiver: { id, reason, approved_by, approved_at } }], certificate? }`;

export async function cmdVerify(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, certify: { type: 'boolean' } }, 'verify');
  if (values.help) return ctx.help('verify');
  const runId = positionals[0];
  if (!runId || positionals.length > 1) throw new ConfigError('verify takes exactly one RUN_ID', { hint: 'see sensei verify --help' });
  // Imported here, not at the top: cli/main.ts reads VERIFY_HELP from this module and must stay light (see there).
  const { reverifyRun } = await import('../../graph/reverify.js');
  const { certificatePath, ...report } = await ctx.withRuntime(true, (rt) => reverifyRun(rt, ctx.home, runId, { certify: values.certify ?? false }));
  if (values.json) process.stdout.write(`${JSON.stringify({ run_id: runId, ...report, ...(certificatePath ? { certificate: certificatePath } : {}) }, null, 2)}\n`);
  else process.stdout.write(`${renderReport(runId, report)}${certificatePath ? `Certificate: ${certificatePath}\n` : ''}`);
  return report.passed ? 0 : 4;
}

export function renderReport(runId: string, report: VerificationReport): string {
  const lines = [`Verification of ${runId}: ${report.passed ? 'passed' : 'FAILED'}`];
  for (const c of report.checks) {
    lines.push(`  [${c.passed ? 'ok' : 'FAIL'}] ${c.perspective}: ${c.check} (${c.checked} checked)`);
    for (const f of c.findings) lines.push(`      - ${f.message}`);
  }
  for (const w of report.waived ?? []) {
    lines.push(`  [waived] ${w.finding.message} — approved by ${w.waiver.approved_by} at ${w.waiver.approved_at}: ${w.waiver.reason}`);
  }
  return `${lines.join('\n')}\n`;
}
