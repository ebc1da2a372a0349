// Who may do what on a run: viewers read and chat, approvers act within their tables, admins do everything.
import type { StakeholderAction } from '../graph/amani-service.js';
import { hasRole, type Stakeholder } from '../tools/store/token-store.js';

/** Why `who` may not do `action` on the run, or the action they may do (an approver's approvals narrowed to their tables). */
export function authorize(who: Stakeholder, action: StakeholderAction, tablesOfRun: Array<{ source: string; target: string }>): { denied: string } | { action: StakeholderAction } {
  if (!hasRole(who.role, 'approver')) return { denied: `${who.name} is a viewer: viewers can read and chat, not ${action.action}` };
  if (who.role === 'admin' || who.tables === null) return { action };
  const scope = who.tables.map((t) => t.toLowerCase());
  const inScope = (name: string): boolean => {
    const t = tablesOfRun.find((x) => x.source.toLowerCase() === name.toLowerCase() || x.target.toLowerCase() === name.toLowerCase());
    return t ? scope.includes(t.source.toLowerCase()) || scope.includes(t.target.toLowerCase()) : scope.includes(name.toLowerCase());
  };
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
