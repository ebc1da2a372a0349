// `sensei waiver add|list|revoke`: a stakeholder approves a documented exception for one failing finding of a run.
import { userInfo } from 'node:os';
import { ConfigError, RunStateError } from '../../core/errors.js';
import type { WaiverOutcome, WaiverView } from '../../graph/waiver-service.js';
import { parseCommandArgs, type CommandContext } from './context.js';

export const WAIVER_HELP = `Usage: sensei waiver add RUN_ID --code CODE --path P [--path P …] --reason TEXT --by NAME [--json]
       sensei waiver list RUN_ID [--json]
       sensei waiver revoke RUN_ID WAIVER_ID [--by NAME] [--json]

An approved exception for one finding of a run's latest verification: code and path exactly as
\`sensei verify RUN_ID --json\` reports them (one --path per element, in order). The reason and who approved it are
stored and, after \`sensei verify RUN_ID --certify\`, written into the certificate's exceptions. A waiver for a finding
the latest verification does not have is refused. Adding and revoking are recorded in the run's approvals audit log
(revoke: by --by, default the operating-system user). The server offers the same to stakeholders with a token
(POST /runs/RUN_ID/waivers, or "waive ID because REASON" in the chat with AMANI).

Exit codes: 0 done, 2 bad arguments or a refused waiver, 1 other failures (store unreachable).`;

export async function cmdWaiver(argv: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { code: { type: 'string' }, path: { type: 'string', multiple: true }, reason: { type: 'string' }, by: { type: 'string' }, json: { type: 'boolean' } },
    'waiver',
  );
  if (values.help) return ctx.help('waiver');
  const [sub, runId, id] = positionals;
  if (!runId) throw new ConfigError('waiver needs a subcommand and a RUN_ID', { hint: 'see sensei waiver --help' });
  const out = (json: unknown, text: string): void => {
    process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
  };
  /** The value, or the error whose exit code says why nothing changed (2: refused or unknown, 1: unknown run). */
  const value = <T>(r: WaiverOutcome<T>): T => {
    if (r.ok) return r.value;
    if (r.problem === 'unknown_run') throw new RunStateError(r.message, { hint: 'check the run id and SENSEI_HOME / SENSEI_STORE_URL' });
    throw new ConfigError(r.message, { hint: r.problem === 'unknown_waiver' ? `sensei waiver list ${runId} shows the ids` : 'see sensei waiver --help' });
  };
  return ctx.withRuntime(true, async (rt) => {
    switch (sub) {
      case 'add': {
        // The CLI runs with the store's own rights: who approves is the --by given (the server uses the token instead).
        const w = value(await rt.waivers.add(runId, { code: values.code, path: values.path ?? [], reason: values.reason ?? '' }, values.by ?? ''));
        out({ run_id: runId, waiver: w }, `Waiver ${w.id} recorded: ${describe(w)}\nRun sensei verify ${runId} --certify to verify and certify with it.`);
        return 0;
      }
      case 'list': {
        const list = value(await rt.waivers.list(runId));
        out({ run_id: runId, waivers: list }, list.length === 0 ? `No waivers for ${runId}.` : list.map((w) => `${w.id}: ${describe(w)}`).join('\n'));
        return 0;
      }
      case 'revoke': {
        const n = Number(id);
        if (!Number.isInteger(n)) throw new ConfigError('waiver revoke needs RUN_ID and a numeric WAIVER_ID', { hint: 'sensei waiver list RUN_ID shows the ids' });
        value(await rt.waivers.revoke(runId, n, values.by ?? `${userInfo().username} (sensei waiver revoke)`));
        out({ run_id: runId, revoked: n }, `Waiver ${n} revoked.`);
        return 0;
      }
      default:
        throw new ConfigError(`unknown waiver subcommand ${sub ?? ''}`.trim(), { hint: 'use add, list or revoke (see sensei waiver --help)' });
    }
  });
}

const describe = (w: WaiverView): string => `${w.finding_id} ${w.code} at [${w.path.join(', ')}], approved by ${w.approved_by} at ${w.approved_at}: ${w.reason}`;
