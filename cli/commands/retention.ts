// `sensei retention purge`: remove validation results and source captures older than the retention period.
import { ConfigError } from '../../core/errors.js';
import { parseCommandArgs, type CommandContext } from './context.js';

export const RETENTION_HELP = `Usage: sensei retention purge [--years N] [--json]

Removes validation results, and the sealed source captures they were checked against, created more than N years ago
(default 7, as retention.validation_years). Runs, approvals, certificates and the pattern library are kept.

Options:
  --years N   retention period in years (may be fractional); default 7
  --json      print { before, validation_results, captured_tables, capture_buckets, capture_files }`;

export async function cmdRetention(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { years: { type: 'string' }, json: { type: 'boolean' } }, 'retention');
  if (values.help) return ctx.help('retention');
  if (positionals[0] !== 'purge' || positionals.length > 1) throw new ConfigError('usage: sensei retention purge [--years N]', { hint: 'see sensei retention --help' });
  const years = values.years === undefined ? 7 : Number(values.years);
  if (!Number.isFinite(years) || years < 0) throw new ConfigError(`--years must be a non-negative number, got ${values.years}`, { hint: 'e.g. --years 7' });
  const before = new Date(Date.now() - years * 365.25 * 86_400_000);
  // Imported here, not at the top: cli/main.ts reads RETENTION_HELP from this module and must stay light (see there).
  const [{ loadSecretBox }, { createCaptureStore }] = await Promise.all([import('../../tools/store/secret-box.js'), import('../../tools/verification/capture-store.js')]);
  const removed = await ctx.withStore((store) => createCaptureStore(store.pool, loadSecretBox(ctx.home), ctx.home).purge(before));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ before: before.toISOString(), validation_results: removed.validationResults, captured_tables: removed.capturedTables, capture_buckets: removed.captureBuckets, capture_files: removed.captureFiles }, null, 2)}\n`);
  } else {
    process.stdout.write(`Removed ${removed.validationResults} validation result(s) and ${removed.capturedTables} captured table(s) created before ${before.toISOString()}\n`);
  }
  return 0;
}
