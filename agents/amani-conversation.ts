// AMANI in conversation: turns an understood request into an answer or a validated action; never guesses an action.
import { allMappings, type ColumnMapping, type Plan } from '../core/plan.js';
import { pendingMappings, StakeholderAction, type ApprovalRequest } from './amani.js';
import { GRAMMAR_HELP, parseIntent, type Intent } from './amani-grammar.js';

/** What AMANI knows about the run when it answers. */
export interface ConversationContext {
  runId: string;
  status: string;
  stage: string;
  plan: Plan | null;
  approvedKeys: readonly string[];
  request: ApprovalRequest | null;
  /** Queued rows per source table (counts only: a chat never shows row values). */
  errorCounts: Record<string, number>;
  /**
   * The latest verification's findings (ids, messages without row values, waivers); null when never verified;
   * undefined when not loaded (see `converse`, which loads them when the message needs them).
   */
  findings?: { verifiedAt: string; passed: boolean; items: Array<{ id: string; message: string; waiver: { id: number; approvedBy: string } | null }> } | null;
}

/** A waiver change a chat message asked for: still to be validated and authorized by the waiver service. */
export type WaiverCommand = { op: 'add'; finding: string; reason: string } | { op: 'revoke'; id: number };

/** AMANI's answer: a reply, and an action when the message asked for one that is valid as stated. */
export interface ConversationTurn {
  reply: string;
  action?: StakeholderAction;
  waiver?: WaiverCommand;
}

/** Reads a message into intents: the deterministic grammar, or an LLM that proposes the same intents. */
export interface IntentInterpreter {
  /**
   * True when `interpret` reads `ctx.findings` (an LLM is shown them, to turn "the changed row" into a finding id):
   * `converse` then loads them before every message. Default false: loaded only for a message that asks for them.
   */
  readsFindings?: boolean;
  interpret(message: string, ctx: ConversationContext): Promise<{ intents: Intent[]; text?: string }>;
}

export const deterministicInterpreter: IntentInterpreter = {
  async interpret(message) {
    return { intents: [parseIntent(message)] };
  },
};

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const fmt = (m: ColumnMapping): string => `${m.sourceTable}.${m.sourceColumn} → ${m.targetTable}.${m.targetColumn}`;

export function helpText(): string {
  return `I understand:\n${GRAMMAR_HELP.map((l) => `• ${l}`).join('\n')}`;
}

/** The mappings a column reference names (source or target column, within `table` when given). */
function mappingsFor(plan: Plan, column: string, table?: string): ColumnMapping[] {
  return allMappings(plan).filter(
    (m) => (table === undefined || same(m.sourceTable, table) || same(m.targetTable, table)) && (same(m.sourceColumn, column) || same(m.targetColumn, column)),
  );
}

/** Fills in the table of a bare column reference when exactly one mapping has that column. */
function resolveTable(plan: Plan, column: string, table: string | undefined): { table: string } | { reply: string } {
  if (table !== undefined) return { table };
  const hits = mappingsFor(plan, column);
  const tables = [...new Set(hits.map((m) => m.sourceTable))];
  if (tables.length === 1) return { table: tables[0]! };
  if (tables.length === 0) return { reply: `No mapped column is called "${column}". Ask "what is unmapped?" or "show plan".` };
  return { reply: `"${column}" is in several tables (${tables.join(', ')}): say which, e.g. "${tables[0]}.${column}".` };
}

function answerWhy(plan: Plan, column: string, table?: string): string {
  const hits = mappingsFor(plan, column, table);
  if (hits.length === 0) {
    const unmapped = plan.unmappedSource.concat(plan.unmappedTarget).filter((n) => same(n.split('.').pop() ?? '', column));
    return unmapped.length > 0
      ? `${unmapped.join(', ')} is not mapped: no counterpart matched well enough by name and type. Map it with "map COLUMN to TARGET_COLUMN".`
      : `I know no column "${column}"${table ? ` in ${table}` : ''}.`;
  }
  return hits
    .map((m) => {
      const rules = m.validationRules.map((r) => r.rule).join(', ') || 'none';
      return `${fmt(m)}: confidence ${m.confidence.toFixed(2)} (${m.band} band), ${m.origin}: ${m.rationale}. Transformation ${m.transformation}; checks: ${rules}.`;
    })
    .join('\n');
}

function answerPlan(ctx: ConversationContext, plan: Plan): string {
  const pending = pendingMappings(plan, ctx.approvedKeys);
  const lines = plan.tables.map((t) => `• ${t.source} → ${t.target}: ${t.columns.length} column(s), ${pending.filter((m) => m.sourceTable === t.source).length} waiting for approval`);
  return `Run ${ctx.runId} is ${ctx.status} (stage ${ctx.stage}).\n${lines.join('\n')}`;
}

function answerNext(ctx: ConversationContext, plan: Plan | null): string {
  if (ctx.status === 'awaiting_approval' && plan) {
    const pending = pendingMappings(plan, ctx.approvedKeys);
    return `${pending.length} mapping(s) still need approval (${pending.slice(0, 5).map(fmt).join('; ')}${pending.length > 5 ? '; …' : ''}). When none is left I load the tables in ${plan.phases.length} phase(s) (${plan.phases.map((p) => p.join(' + ')).join(' → ')}), then verify the target and issue a signed certificate.`;
  }
  const next: Record<string, string> = {
    running: `I am at stage ${ctx.stage}; after it come the remaining stages up to the certificate.`,
    completed: 'The run is complete: the certificate can be downloaded.',
    failed: 'The run failed; see its error in the status.',
    rejected: 'The run was stopped by a stakeholder; nothing more happens.',
  };
  return next[ctx.status] ?? `The run is ${ctx.status}.`;
}

function answerErrors(ctx: ConversationContext): string {
  const entries = Object.entries(ctx.errorCounts);
  if (entries.length === 0) return 'The error queue of this run is empty.';
  return `Queued rows: ${entries.map(([t, n]) => `${t} ${n}`).join(', ')}. The rows are encrypted; a reviewer reads them with "sensei errors list ${ctx.runId}" or GET /runs/${ctx.runId}/errors.`;
}

function answerFindings(ctx: ConversationContext): string {
  const f = ctx.findings;
  if (!f) return `Run ${ctx.runId} has not been verified yet, so there is nothing to waive.`;
  if (f.items.length === 0) return `The latest verification (${f.verifiedAt}) passed with no finding.`;
  const lines = f.items.map((i) => `• ${i.id}: ${i.message}${i.waiver ? ` — waived (waiver ${i.waiver.id}, approved by ${i.waiver.approvedBy})` : ''}`);
  return `The latest verification (${f.verifiedAt}) ${f.passed ? 'passed' : 'failed'}:\n${lines.join('\n')}\nWaive one with "waive ID because REASON".`;
}

/** Turns one intent into a reply or a validated action. */
export function intentToTurn(intent: Intent, ctx: ConversationContext, by: string): ConversationTurn {
  if (intent.kind === 'unknown') return { reply: `I did not understand that, so I did nothing. ${helpText()}` };
  if (intent.kind === 'incomplete') return { reply: intent.hint };
  if (intent.kind === 'ask' && intent.question === 'help') return { reply: helpText() };
  if (intent.kind === 'ask' && intent.question === 'errors') return { reply: answerErrors(ctx) };
  if (intent.kind === 'ask' && intent.question === 'next') return { reply: answerNext(ctx, ctx.plan) };
  if (intent.kind === 'ask' && intent.question === 'findings') return { reply: answerFindings(ctx) };
  // Waivers concern the verification, not the approval: they need no plan and no pause for approval.
  if (intent.kind === 'waive') return { reply: `Waiving ${intent.finding}…`, waiver: { op: 'add', finding: intent.finding, reason: intent.reason } };
  if (intent.kind === 'revoke_waiver') return { reply: `Revoking waiver ${intent.id}…`, waiver: { op: 'revoke', id: intent.id } };
  const plan = ctx.plan;
  if (!plan) return { reply: `Run ${ctx.runId} has no plan yet (stage ${ctx.stage}).` };
  if (intent.kind === 'ask') {
    switch (intent.question) {
      case 'why':
        return { reply: answerWhy(plan, intent.column, intent.table) };
      case 'unmapped':
        return {
          reply: `Unmapped source: ${plan.unmappedSource.join(', ') || 'none'}. Unmapped target: ${plan.unmappedTarget.join(', ') || 'none'}.`,
        };
      default:
        return { reply: answerPlan(ctx, plan) };
    }
  }
  if (ctx.status !== 'awaiting_approval') return { reply: `Run ${ctx.runId} is ${ctx.status}, not waiting for approval: nothing changed.` };

  let candidate: unknown;
  switch (intent.kind) {
    case 'approve':
      candidate = { action: 'approve', by, ...pick(intent, ['table', 'column', 'band']) };
      break;
    case 'modify':
    case 'reject': {
      let table = intent.table;
      if (intent.column !== undefined) {
        const resolved = resolveTable(plan, intent.column, intent.table);
        if ('reply' in resolved) return { reply: resolved.reply };
        table = resolved.table;
      }
      candidate =
        intent.kind === 'modify'
          ? { action: 'modify', by, table, column: intent.column, ...pick(intent, ['target_column', 'transformation']) }
          : { action: 'reject', by, reason: intent.reason, ...(table !== undefined ? { table } : {}), ...pick(intent, ['column']) };
      break;
    }
    case 'set_strategy':
      candidate = { action: 'set_strategy', by, [intent.key]: intent.value };
      break;
    case 'abort':
      candidate = { action: 'abort', by, ...pick(intent, ['reason']) };
      break;
  }
  const parsed = StakeholderAction.safeParse(candidate);
  if (!parsed.success) {
    return { reply: `I cannot do that: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'request'} ${i.message}`).join('; ')}. Nothing changed.` };
  }
  return { reply: describeAction(parsed.data), action: parsed.data };
}

function describeAction(a: StakeholderAction): string {
  switch (a.action) {
    case 'approve':
      return `Approving ${a.column ? `${a.table}.${a.column}` : a.table ? `everything in ${a.table}` : a.band ? `the ${a.band} band` : 'everything that waits'}…`;
    case 'modify':
      return `Changing ${a.table}.${a.column}…`;
    case 'reject':
      return `Rejecting ${a.column ? `${a.table}.${a.column}` : (a.table ?? 'the plan')}…`;
    case 'set_strategy':
      return 'Changing the strategy…';
    case 'abort':
      return 'Stopping the run…';
  }
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/**
 * AMANI's conversation: interpret (grammar or LLM), then answer or act — the same validation either way. When
 * `ctx.findings` is left out, `loadFindings` supplies them only if they are needed: before interpreting for an
 * interpreter that `readsFindings`, otherwise only for a message that asks for them (a waiver is checked against the
 * latest verification by the waiver service, not here).
 */
export async function converse(
  interpreter: IntentInterpreter,
  message: string,
  ctx: ConversationContext,
  by: string,
  loadFindings?: () => Promise<ConversationContext['findings']>,
): Promise<ConversationTurn[]> {
  let c = ctx;
  const withFindings = async (): Promise<void> => {
    if (c.findings === undefined && loadFindings) c = { ...c, findings: await loadFindings() };
  };
  if (interpreter.readsFindings) await withFindings();
  const { intents, text } = await interpreter.interpret(message, c);
  if (intents.length === 0) return [{ reply: text && text.trim() !== '' ? text : `I did not understand that, so I did nothing. ${helpText()}` }];
  if (intents.some((i) => i.kind === 'ask' && i.question === 'findings')) await withFindings();
  return intents.map((i) => intentToTurn(i, c, by));
}

