// `sensei resume RUN_ID`: continue an interrupted run from its last checkpoint.
import type { CommandKit } from './kit.js';

export const RESUME_HELP = `Usage: sensei resume RUN_ID [--json] [--quiet]

Continues a run that was interrupted — the process was killed, the source or target went away, the error policy
stopped it — from its last checkpoint. Rows committed before the interruption are not written again and queued rows
are not queued twice; tables without a primary key whose source has no stable row order are reloaded whole. Two
processes cannot resume one run at once.

Options:
  --json     print one JSON object (same shape as migrate)
  --quiet    no progress output on stderr`;

export async function cmdResume(argv: string[], kit: CommandKit): Promise<number> {
  const { values, positionals } = kit.args(argv, { json: { type: 'boolean' }, quiet: { type: 'boolean' } }, 'resume');
  if (values.help) return kit.help('resume');
  const runId = positionals[0];
  if (!runId || positionals.length > 1) throw kit.usageError('resume takes exactly one RUN_ID', 'resume');
  const result = await kit.withRuntime(Boolean(values.quiet), (rt) => rt.continueRun(runId));
  return kit.printResult(result, Boolean(values.json));
}
