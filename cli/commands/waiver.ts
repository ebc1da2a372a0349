// `sensei waiver add|list|revoke`: a stakeholder approves a documented exception for one failing finding of a run.
import { ConfigError } from '../../core/errors.js';
import { loadSecretBox } from '../../tools/store/secret-box.js';
import { createCaptureStore } from '../../tools/verification/capture-store.js';
import { createWaiverStore, WaiverRefused, type Waiver } from '../../tools/verification/waivers.js';
import { parseCommandArgs, type CommandContext } from './context.js';

export const WAIVER_HELP = `Usage: sensei waiver add RUN_ID --code CODE --path P [--path P …] --reason TEXT --by NAME [--json]
       sensei waiver list RUN_ID [--json]
       sensei waiver revoke RUN_ID WAIVER_ID [--json]

An approved exception for one finding of a run's latest verification: code and path exactly as
\`sensei verify RUN_ID --json\` reports them (one --path per element, in order). The reason and who approved it are
stored and, after \`sensei verify RUN_ID --certify\`, written into the certificate's exceptions. A waiver for a finding
the latest verification does not have is refused.

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
  return ctx.withRuntime(true, async (rt) => {
    const waivers = createWaiverStore(rt.store.pool);
    switch (sub) {
      case 'add': {
        const validations = await createCaptureStore(rt.store.pool, loadSecretBox(ctx.home)).listValidations(runId);
        try {
          const w = await waivers.add(runId, { code: values.code, path: values.path ?? [], reason: values.reason, by: values.by }, validations.at(-1)?.report);
          out({ run_id: runId, waiver: w }, `Waiver ${w.id} recorded: ${describe(w)}\nRun sensei verify ${runId} --certify to verify and certify with it.`);
          return 0;
        } catch (e) {
          if (e instanceof WaiverRefused) throw new ConfigError(e.message, { hint: 'see sensei waiver --help' });
          throw e;
        }
      }
      case 'list': {
        const list = await waivers.list(runId);
        out({ run_id: runId, waivers: list }, list.length === 0 ? `No waivers for ${runId}.` : list.map((w) => `${w.id}: ${describe(w)}`).join('\n'));
        return 0;
      }
      case 'revoke': {
        const n = Number(id);
        if (!Number.isInteger(n)) throw new ConfigError('waiver revoke needs RUN_ID and a numeric WAIVER_ID', { hint: 'sensei waiver list RUN_ID shows the ids' });
        const removed = await waivers.revoke(runId, n);
        if (!removed) throw new ConfigError(`run ${runId} has no waiver ${n}`, { hint: `sensei waiver list ${runId} shows the ids` });
        out({ run_id: runId, revoked: n }, `Waiver ${n} revoked.`);
        return 0;
      }
      default:
        throw new ConfigError(`unknown waiver subcommand ${sub ?? ''}`.trim(), { hint: 'use add, list or revoke (see sensei waiver --help)' });
    }
  });
}

const describe = (w: Waiver): string => `${w.code} at [${w.path.join(', ')}], approved by ${w.approvedBy} at ${w.approvedAt}: ${w.reason}`;
