// Who may do what on a run: viewers read and chat, approvers act within their tables, admins do everything.
import type { StakeholderAction } from '../graph/amani-service.js';
import { hasRole, type Stakeholder } from '../tools/store/token-store.js';

type RunTables = Array<{ source: string; target: string }>;

/** Whether a table (source or target name) is one of a scoped approver's tables. */
function inScopeOf(scope: string[], tablesOfRun: RunTables, name: string): boolean {
  const wanted = scope.map((t) => t.toLowerCase());
  const t = tablesOfRun.find((x) => x.source.toLowerCase() === name.toLowerCase() || x.target.toLowerCase() === name.toLowerCase());
  return t ? wanted.includes(t.source.toLowerCase()) || wanted.includes(t.target.toLowerCase()) : wanted.includes(name.toLowerCase());
}

/** Why `who` may not do `action` on the run, or the action they may do (an approver's approvals narrowed to their tables). */
export function authorize(who: Stakeholder, action: StakeholderAction, tablesOfRun: RunTables): { denied: string } | { action: StakeholderAction } {
  if (!hasRole(who.role, 'approver')) return { denied: `${who.name} is a viewer: viewers can read and chat, not ${action.action}` };
  if (who.role === 'admin' || who.tables === null) return { action };
  const inScope = (name: string): boolean => inScopeOf(who.tables!, tablesOfRun, name);
  switch (action.action) {
    case 'approve':
      if (action.table !== undefined && !inScope(action.table)) return { denied: `${who.name} approves only in ${who.tables.join(', ')}, not ${action.table}` };
      return { action: { ...action, within: who.tables } };
    case 'modify':
    case 'reject':
      if (action.table !== undefined && inScope(action.table)) return { action };
      return { denied: `${who.name} acts only on ${who.tables.join(', ')}${action.table ? `, not ${action.table}` : '; rejecting the whole plan needs an admin'}` };
    default:
      return { denied: `${action.action} affects the whole run: it needs an admin or an approver of every table` };
  }
}

/**
 * Why `who` may not add or revoke a waiver of a finding about `table` (null: the whole run, e.g. a replayed query), or
 * null when they may: approvers within their tables, admins and approvers of every table for anything.
 */
export function authorizeWaiver(who: Stakeholder, table: string | null, tablesOfRun: RunTables): string | null {
  if (!hasRole(who.role, 'approver')) return `${who.name} is a viewer: viewers can read and chat, not waive findings`;
  if (who.role === 'admin' || who.tables === null) return null;
  if (table === null) return `the finding concerns the whole run: waiving it needs an admin or an approver of every table, not ${who.name} (${who.tables.join(', ')})`;
  return inScopeOf(who.tables, tablesOfRun, table) ? null : `${who.name} waives only in ${who.tables.join(', ')}, not ${table}`;
}
