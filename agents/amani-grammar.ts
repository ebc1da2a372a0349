// AMANI's deterministic grammar: the plain-language requests understood without an LLM (documented in the README).
import type { ErrorPolicy } from '../core/config.js';

/** What a message asks for. `table` may be missing when the stakeholder named only a column; AMANI resolves it. */
export type Intent =
  | { kind: 'approve'; table?: string; column?: string; band?: 'review' | 'explicit' }
  | { kind: 'modify'; table?: string; column: string; target_column?: string; transformation?: string }
  | { kind: 'reject'; table?: string; column?: string; reason: string }
  | { kind: 'set_strategy'; key: 'batch_size' | 'checkpoint_every' | 'auto_approve_above' | 'review_above' | 'concurrency'; value: number }
  | { kind: 'set_strategy'; key: 'error_policy'; value: ErrorPolicy }
  | { kind: 'abort'; reason?: string }
  | { kind: 'ask'; question: 'why'; table?: string; column: string }
  | { kind: 'ask'; question: 'unmapped' | 'errors' | 'next' | 'plan' | 'help' | 'findings' }
  /** Approve an exception for one finding of the latest verification (by its 8-hex-digit id), with the reason. */
  | { kind: 'waive'; finding: string; reason: string }
  | { kind: 'revoke_waiver'; id: number }
  | { kind: 'incomplete'; hint: string }
  | { kind: 'unknown' };

const NAME = String.raw`"[^"]+"|[\w$#@-]+`;
const unquote = (s: string): string => (s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);

/** `table.column`, `column in table`, `column of table`, or a bare column. */
function columnRef(text: string): { table?: string; column: string } | null {
  let m = new RegExp(`^(${NAME})\\.(${NAME})$`).exec(text);
  if (m) return { table: unquote(m[1]!), column: unquote(m[2]!) };
  m = new RegExp(`^(${NAME})\\s+(?:in|of|from)\\s+(?:table\\s+)?(${NAME})$`, 'i').exec(text);
  if (m) return { table: unquote(m[2]!), column: unquote(m[1]!) };
  m = new RegExp(`^(${NAME})$`).exec(text);
  if (m) return { column: unquote(m[1]!) };
  return null;
}

const STRATEGY_KEYS: Array<[RegExp, Exclude<Extract<Intent, { kind: 'set_strategy' }>['key'], 'error_policy'>]> = [
  [/^concurrency$/i, 'concurrency'],
  [/^batch[ _-]?size$/i, 'batch_size'],
  [/^checkpoint(?:[ _-]?(?:interval|every))?$/i, 'checkpoint_every'],
  [/^auto[ _-]?approve(?:[ _-]?(?:threshold|above))?$/i, 'auto_approve_above'],
  [/^review(?:[ _-]?(?:threshold|above))?$/i, 'review_above'],
];

/** Parses one message. Anything outside the grammar is `unknown`: AMANI never guesses an action. */
export function parseIntent(message: string): Intent {
  const text = message.trim().replace(/\s+/g, ' ').replace(/[.!]+$/, '');
  let m: RegExpExecArray | null;

  if (/^(help|\?|what can (you|i) do\??)$/i.test(text)) return { kind: 'ask', question: 'help' };
  if (/^(what is|what's|show( me)?|list)( the)? unmapped\??$/i.test(text) || /^unmapped\??$/i.test(text)) return { kind: 'ask', question: 'unmapped' };
  if (/^(show( me)?|list|what are)( the)? errors?( in the queue)?\??$/i.test(text) || /^errors\??$/i.test(text)) return { kind: 'ask', question: 'errors' };
  if (/^(show( me)?|list|what are)( the)? (findings|failures)\??$/i.test(text) || /^(findings|what failed)\??$/i.test(text)) return { kind: 'ask', question: 'findings' };
  if ((m = /^waive (?:finding )?([0-9a-f]{8})(?:\s*[:—–-]\s+|\s+because\s+)(.+)$/i.exec(text))) return { kind: 'waive', finding: m[1]!.toLowerCase(), reason: m[2]!.trim() };
  if (/^waive\b/i.test(text)) return { kind: 'incomplete', hint: 'A waiver needs the finding\'s id and a reason, e.g. "waive 1a2b3c4d because the label was corrected by hand (ticket OPS-12)"; "show findings" lists the ids.' };
  if ((m = /^(?:revoke|withdraw) (?:the )?waiver #?([0-9]+)$/i.exec(text))) return { kind: 'revoke_waiver', id: Number(m[1]) };
  if (/^what (happens )?next\??$/i.test(text)) return { kind: 'ask', question: 'next' };
  if (/^(show( me)?( the)? plan|plan|status)\??$/i.test(text)) return { kind: 'ask', question: 'plan' };
  if ((m = new RegExp(`^why (?:is |was |this mapping (?:for )?|map )?(.+?)(?: (?:so )?low| mapped(?: like that)?| flagged)?\\??$`, 'i').exec(text))) {
    const ref = columnRef(m[1]!.trim());
    if (ref) return { kind: 'ask', question: 'why', ...ref };
  }

  if ((m = /^approve(?: (?:all|everything)(?: mappings)?)?$/i.exec(text))) return { kind: 'approve' };
  if ((m = /^approve (?:all |the )?(flagged|review|explicit)(?: band| mappings| ones)?$/i.exec(text))) {
    return { kind: 'approve', band: m[1]!.toLowerCase() === 'explicit' ? 'explicit' : 'review' };
  }
  if ((m = new RegExp(`^approve (?:all |everything )?(?:in |of |for )?table (${NAME})$`, 'i').exec(text)) || (m = new RegExp(`^approve (?:all|everything) (?:in|of|for) (${NAME})$`, 'i').exec(text))) {
    return { kind: 'approve', table: unquote(m[1]!) };
  }
  if ((m = /^approve (?:the mapping (?:of |for )?|mapping )?(.+)$/i.exec(text))) {
    const ref = columnRef(m[1]!.trim());
    if (ref) return ref.table ? { kind: 'approve', ...ref } : { kind: 'approve', table: ref.column };
  }

  if ((m = /^map (.+?) (?:to|onto|->|→) (.+)$/i.exec(text))) {
    const ref = columnRef(m[1]!.trim());
    const target = new RegExp(`^(?:(${NAME})\\.)?(${NAME})$`).exec(m[2]!.trim());
    if (ref && target) return { kind: 'modify', ...ref, target_column: unquote(target[2]!) };
  }
  if ((m = /^use (.+) for (.+)$/i.exec(text))) {
    const ref = columnRef(m[2]!.trim());
    if (ref) return { kind: 'modify', ...ref, transformation: m[1]!.trim() };
  }

  if ((m = /^set (?:the )?error[ _-]?policy (?:to|=) (continue|stop[ _-]on[ _-]first|stop[ _-]after ([0-9]+))$/i.exec(text))) {
    const value: ErrorPolicy = m[2] !== undefined ? { stop_after: Number(m[2]) } : /^continue$/i.test(m[1]!) ? 'continue' : 'stop_on_first';
    return { kind: 'set_strategy', key: 'error_policy', value };
  }
  if ((m = /^set (.+?) (?:to|=) ([0-9][0-9_,]*(?:\.[0-9]+)?)$/i.exec(text))) {
    const key = STRATEGY_KEYS.find(([re]) => re.test(m![1]!.trim()))?.[1];
    if (key) return { kind: 'set_strategy', key, value: Number(m[2]!.replace(/[_,]/g, '')) };
  }

  if ((m = /^reject(?: (.+?))?(?:\s*[:—–-]\s+|\s+because\s+)(.+)$/i.exec(text))) {
    const reason = m[2]!.trim();
    const scope = m[1]?.trim();
    if (scope === undefined || /^(all|everything|the plan|plan)$/i.test(scope)) return { kind: 'reject', reason };
    const ref = columnRef(scope.replace(/^table /i, ''));
    if (ref) return ref.table ? { kind: 'reject', ...ref, reason } : { kind: 'reject', table: ref.column, reason };
  }
  if (/^reject\b/i.test(text)) return { kind: 'incomplete', hint: 'A rejection needs a reason, e.g. "reject orders: amounts are in cents". The mapper uses it when it plans again.' };

  if ((m = /^(?:abort|cancel|stop)(?: the run)?(?:\s*[:—–-]\s*(.+))?$/i.exec(text))) return { kind: 'abort', ...(m[1] ? { reason: m[1].trim() } : {}) };
  return { kind: 'unknown' };
}

/** The requests AMANI understands, for its help reply and the README. */
export const GRAMMAR_HELP = [
  'approve all · approve flagged · approve explicit · approve all in TABLE · approve TABLE.COLUMN',
  'map COLUMN to TARGET_COLUMN (or map TABLE.COLUMN to TARGET_COLUMN)',
  'use EXPRESSION for COLUMN — x stands for the column, e.g. use upper(trim(x)) for email',
  'reject TABLE: REASON · reject TABLE.COLUMN: REASON · reject: REASON (the mapper plans again with your reason)',
  'set batch size to N · set checkpoint interval to N · set auto-approve threshold to 0.9 · set review threshold to 0.7 · set concurrency to N',
  'set error policy to continue · set error policy to stop on first · set error policy to stop after N',
  'why is COLUMN low? · what is unmapped? · show errors · what happens next? · show plan · abort',
  'show findings · waive FINDING because REASON · revoke waiver N (after verification: approved exceptions, in the certificate)',
];
