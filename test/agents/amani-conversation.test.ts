import { describe, expect, it } from 'vitest';
import { converse, deterministicInterpreter, type ConversationContext } from '../../agents/amani-conversation.js';
import type { Plan } from '../../core/plan.js';

const mapping = (sourceTable: string, sourceColumn: string, targetColumn: string, confidence: number, band: 'auto' | 'review' | 'explicit') => ({
  sourceTable,
  sourceColumn,
  targetTable: sourceTable.toLowerCase(),
  targetColumn,
  transformation: `src."${sourceColumn}"`,
  targetType: 'text',
  confidence,
  band,
  origin: 'heuristic' as const,
  rationale: 'shared words',
  validationRules: [{ rule: 'max_length', predicate: 'true', message: 'm' }],
});

const plan: Plan = {
  tables: [
    { source: 'CUSTOMERS', target: 'customers', confidence: 0.9, rationale: '', sourceKey: ['ID'], columns: [mapping('CUSTOMERS', 'CUST_NM', 'full_name', 0.72, 'explicit'), mapping('CUSTOMERS', 'DOB', 'birth_date', 0.6, 'explicit')] },
    { source: 'ORDERS', target: 'orders', confidence: 1, rationale: '', sourceKey: ['ID'], columns: [mapping('ORDERS', 'AMT', 'amount', 0.85, 'review'), mapping('ORDERS', 'DOB', 'dob', 0.99, 'auto')] },
  ],
  unmappedSource: ['CUSTOMERS.FAX'],
  unmappedTarget: ['customers.email'],
  phases: [['customers'], ['orders']],
  cyclic: [],
  targetDdl: [],
  targetSchemaSource: 'existing',
  thresholds: { autoApproveAbove: 0.95, reviewAbove: 0.8 },
  warnings: [],
};
const ctx: ConversationContext = { runId: 'run_1', status: 'awaiting_approval', stage: 'approve', plan, approvedKeys: [], request: null, errorCounts: { ORDERS: 3 } };
const say = async (text: string, c: ConversationContext = ctx) => (await converse(deterministicInterpreter, text, c, 'alice'))[0]!;

describe('AMANI conversation (no LLM)', () => {
  it('turns understood requests into validated actions, resolving a bare column to its table', async () => {
    expect((await say('approve all in customers')).action).toEqual({ action: 'approve', by: 'alice', table: 'customers' });
    expect((await say('map CUST_NM to full_name')).action).toEqual({ action: 'modify', by: 'alice', table: 'CUSTOMERS', column: 'CUST_NM', target_column: 'full_name' });
    expect((await say('use upper(trim(x)) for AMT')).action).toEqual({ action: 'modify', by: 'alice', table: 'ORDERS', column: 'AMT', transformation: 'upper(trim(x))' });
    expect((await say('set batch size to 5000')).action).toEqual({ action: 'set_strategy', by: 'alice', batch_size: 5000 });
    expect((await say('reject orders: amounts are in cents')).action).toEqual({ action: 'reject', by: 'alice', table: 'orders', reason: 'amounts are in cents' });
  });

  it('answers questions from the plan and the queue, without values', async () => {
    expect((await say('why is CUST_NM low?')).reply).toBe(
      'CUSTOMERS.CUST_NM → customers.full_name: confidence 0.72 (explicit band), heuristic: shared words. Transformation src."CUST_NM"; checks: max_length.',
    );
    expect((await say('why is FAX low?')).reply).toMatch(/CUSTOMERS\.FAX is not mapped/);
    expect((await say('what is unmapped?')).reply).toBe('Unmapped source: CUSTOMERS.FAX. Unmapped target: customers.email.');
    expect((await say('show errors')).reply).toMatch(/^Queued rows: ORDERS 3\. .*sensei errors list run_1/);
    expect((await say('what happens next?')).reply).toMatch(/^3 mapping\(s\) still need approval .* 2 phase\(s\) \(customers → orders\)/);
  });

  it('never guesses: unknown, ambiguous, invalid or untimely requests change nothing', async () => {
    const unknown = await say('make it so');
    expect(unknown.action).toBeUndefined();
    expect(unknown.reply).toMatch(/^I did not understand that, so I did nothing\. I understand:/);
    const ambiguous = await say('use lower(x) for DOB');
    expect(ambiguous.action).toBeUndefined();
    expect(ambiguous.reply).toMatch(/"DOB" is in several tables \(CUSTOMERS, ORDERS\)/);
    const invalid = await say('set review threshold to 7');
    expect(invalid.action).toBeUndefined();
    expect(invalid.reply).toMatch(/cannot do that: review_above .*Nothing changed/);
    const late = await say('approve all', { ...ctx, status: 'completed' });
    expect(late.action).toBeUndefined();
    expect(late.reply).toBe('Run run_1 is completed, not waiting for approval: nothing changed.');
  });

  it('reads the findings only for a message that asks for them, and shows the loaded ones', async () => {
    const findings = { verifiedAt: '2026-01-02T00:00:00.000Z', passed: false, items: [{ id: '1a2b3c4d', message: 'items (id=77): row differs', waiver: null }] };
    let loads = 0;
    const load = async () => {
      loads++;
      return findings;
    };
    const talk = async (text: string, c: ConversationContext = ctx) => (await converse(deterministicInterpreter, text, c, 'alice', load))[0]!;
    expect((await talk('what is unmapped?')).reply).toMatch(/^Unmapped source/);
    expect((await talk('waive 1a2b3c4d because corrected by hand, ticket OPS-12')).waiver).toEqual({ op: 'add', finding: '1a2b3c4d', reason: 'corrected by hand, ticket OPS-12' });
    expect((await talk('make it so')).action).toBeUndefined();
    expect(loads).toBe(0);
    expect((await talk('show findings')).reply).toBe('The latest verification (2026-01-02T00:00:00.000Z) failed:\n• 1a2b3c4d: items (id=77): row differs\nWaive one with "waive ID because REASON".');
    expect(loads).toBe(1);
    // Findings already in the context (null: never verified) are not read again.
    expect((await talk('show findings', { ...ctx, findings: null })).reply).toBe('Run run_1 has not been verified yet, so there is nothing to waive.');
    expect(loads).toBe(1);
    // Without a loader nor findings, the run is answered as never verified (as before the loader existed).
    expect((await say('show findings')).reply).toBe('Run run_1 has not been verified yet, so there is nothing to waive.');
  });
});
