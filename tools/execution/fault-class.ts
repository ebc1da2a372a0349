// Which database failures are worth retrying, and which need a person (disk full, statement timeout).
import { TargetFaultError } from '../../core/errors.js';
/** `transient`: retry after a pause; `disk_full` / `timeout`: stop, resumable once fixed; `permanent`: a real error. */
export type FaultKind = 'transient' | 'disk_full' | 'timeout' | 'permanent';

const TRANSIENT_SQLSTATE = new Set(['57P01', '57P02', '57P03', '40001', '40P01', '53300']);
const TRANSIENT_NODE = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'PROTOCOL_CONNECTION_LOST']);
const TRANSIENT_MESSAGE = /connection terminated|terminating connection|connection error|server closed the connection|not queryable|connection is closed|read ECONNRESET|socket hang up/i;

/** `e` and its `cause`s (at most 6 deep), each with its SQLSTATE or Node error code ('' when it has none). */
function* causeChain(e: unknown): Generator<{ cur: unknown; code: string }> {
  for (let cur: unknown = e, depth = 0; cur && depth < 6; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = typeof cur === 'object' && cur !== null && 'code' in cur ? (cur as { code: unknown }).code : undefined;
    yield { cur, code: code === undefined || code === null ? '' : String(code) };
  }
}

/** The first SQLSTATE or Node error code along `cause`, for messages (the driver's message can quote values). */
export function faultCode(e: unknown): string | null {
  for (const { code } of causeChain(e)) if (code !== '') return code;
  return null;
}

/** Classifies an error by its SQLSTATE / Node code / message, looking through `cause` chains. */
export function classifyFault(e: unknown): FaultKind {
  for (const { cur, code } of causeChain(e)) {
    if (code === '53100') return 'disk_full';
    if (code === '57014' || code === '55P03') return 'timeout';
    if (TRANSIENT_SQLSTATE.has(code) || code.startsWith('08') || TRANSIENT_NODE.has(code)) return 'transient';
    const message = cur instanceof Error ? cur.message : '';
    if (/no space left on device|could not extend file/i.test(message)) return 'disk_full';
    if (TRANSIENT_MESSAGE.test(message)) return 'transient';
  }
  return 'permanent';
}

/**
 * A target failure that is not the rows' (disk full, a timeout, a lost connection) as the error a person acts on:
 * what Sensei was `doing`, the driver's message, and what to do (`resume`: how to continue afterwards; `space`: where
 * to free it). Null for a permanent error, which stays as it is.
 */
export function targetFault(
  fault: FaultKind,
  e: unknown,
  what: { doing: string; resume: string; space?: string; retried?: boolean },
): TargetFaultError | null {
  const message = e instanceof Error ? e.message : String(e);
  switch (fault) {
    case 'permanent':
      return null;
    case 'disk_full':
      return new TargetFaultError('disk_full', `the target ran out of disk space while ${what.doing}: ${message}`, {
        hint: `free space on the target${what.space ? ` (${what.space})` : ''}, ${what.resume}`,
        cause: e,
      });
    case 'timeout':
      return new TargetFaultError('timeout', `a statement timed out on the target while ${what.doing}: ${message}`, {
        hint: `raise statement_timeout / lock_timeout for the user Sensei connects as, or lower strategy.batch_size, ${what.resume}`,
        cause: e,
      });
    case 'transient':
      return new TargetFaultError('connection', `lost the target connection while ${what.doing}${what.retried ? ' and retries did not help' : ''}: ${message}`, {
        hint: `check the target server, ${what.resume}`,
        cause: e,
      });
  }
}

/** Pause before retry `attempt` (1-based): exponential from `baseMs`, capped at 10 s, with jitter. */
export function backoffMs(attempt: number, baseMs: number): number {
  const exp = Math.min(baseMs * 2 ** (attempt - 1), 10_000);
  return Math.round(exp / 2 + Math.random() * (exp / 2));
}
