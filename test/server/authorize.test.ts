import { describe, expect, it } from 'vitest';
import { authorize, authorizeWaiver } from '../../server/authorize.js';
import type { Stakeholder } from '../../tools/store/token-store.js';

const who = (role: Stakeholder['role'], tables: string[] | null = null): Stakeholder => ({ id: 't', name: 'sam', role, tables, createdAt: '', revokedAt: null });
const tables = [{ source: 'CUST', target: 'customers' }, { source: 'ORD', target: 'orders' }];

describe('authorize', () => {
  it('viewers never act; admins and unscoped approvers always may', () => {
    expect(authorize(who('viewer'), { action: 'approve', by: 'sam' }, tables)).toEqual({ denied: 'sam is a viewer: viewers can read and chat, not approve' });
    expect(authorize(who('admin', ['CUST']), { action: 'abort', by: 'sam' }, tables)).toEqual({ action: { action: 'abort', by: 'sam' } });
    expect(authorize(who('approver'), { action: 'set_strategy', by: 'sam', batch_size: 5 }, tables)).toEqual({ action: { action: 'set_strategy', by: 'sam', batch_size: 5 } });
  });

  it('a scoped approver acts inside their tables by source or target name, and approvals are narrowed to them', () => {
    const bea = who('approver', ['customers']);
    expect(authorize(bea, { action: 'approve', by: 'sam' }, tables)).toEqual({ action: { action: 'approve', by: 'sam', within: ['customers'] } });
    // A forged `within` is replaced by the token's scope.
    expect(authorize(bea, { action: 'approve', by: 'sam', within: ['ORD'] }, tables)).toEqual({ action: { action: 'approve', by: 'sam', within: ['customers'] } });
    expect(authorize(bea, { action: 'modify', by: 'sam', table: 'CUST', column: 'NM', target_column: 'name' }, tables)).toHaveProperty('action');
    expect(authorize(bea, { action: 'reject', by: 'sam', table: 'cust', reason: 'r' }, tables)).toHaveProperty('action');
    expect(authorize(bea, { action: 'approve', by: 'sam', table: 'orders' }, tables)).toEqual({ denied: 'sam approves only in customers, not orders' });
    expect(authorize(bea, { action: 'reject', by: 'sam', reason: 'r' }, tables)).toEqual({ denied: 'sam acts only on customers; rejecting the whole plan needs an admin' });
    expect(authorize(bea, { action: 'abort', by: 'sam' }, tables)).toEqual({ denied: 'abort affects the whole run: it needs an admin or an approver of every table' });
  });

  it('waivers: viewers never; a scoped approver only for findings of their tables; whole-run findings need more', () => {
    expect(authorizeWaiver(who('viewer'), 'customers', tables)).toBe('sam is a viewer: viewers can read and chat, not waive findings');
    expect(authorizeWaiver(who('admin', ['CUST']), null, tables)).toBeNull();
    expect(authorizeWaiver(who('approver'), 'orders', tables)).toBeNull();
    const bea = who('approver', ['customers']);
    expect(authorizeWaiver(bea, 'CUST', tables)).toBeNull();
    expect(authorizeWaiver(bea, 'customers', tables)).toBeNull();
    expect(authorizeWaiver(bea, 'orders', tables)).toBe('sam waives only in customers, not orders');
    expect(authorizeWaiver(bea, null, tables)).toBe('the finding concerns the whole run: waiving it needs an admin or an approver of every table, not sam (customers)');
  });
});
