import { describe, expect, it } from 'vitest';
import { GRAMMAR_HELP, parseIntent } from '../../agents/amani-grammar.js';

describe('AMANI grammar', () => {
  it.each([
    ['approve all', { kind: 'approve' }],
    ['Approve everything.', { kind: 'approve' }],
    ['approve all in customers', { kind: 'approve', table: 'customers' }],
    ['approve table orders', { kind: 'approve', table: 'orders' }],
    ['approve flagged', { kind: 'approve', band: 'review' }],
    ['approve all explicit', { kind: 'approve', band: 'explicit' }],
    ['approve customers.CUST_NM', { kind: 'approve', table: 'customers', column: 'CUST_NM' }],
    ['approve CUST_NM in customers', { kind: 'approve', table: 'customers', column: 'CUST_NM' }],
    ['map CUST_NM to full_name', { kind: 'modify', column: 'CUST_NM', target_column: 'full_name' }],
    ['map customers.CUST_NM to customers.full_name', { kind: 'modify', table: 'customers', column: 'CUST_NM', target_column: 'full_name' }],
    ['use upper(trim(x)) for email', { kind: 'modify', column: 'email', transformation: 'upper(trim(x))' }],
    ['use coalesce(x, \'n/a\') for note in orders', { kind: 'modify', table: 'orders', column: 'note', transformation: "coalesce(x, 'n/a')" }],
    ['set batch size to 5000', { kind: 'set_strategy', key: 'batch_size', value: 5000 }],
    ['set checkpoint interval to 50,000', { kind: 'set_strategy', key: 'checkpoint_every', value: 50000 }],
    ['set review threshold to 0.7', { kind: 'set_strategy', key: 'review_above', value: 0.7 }],
    ['set auto-approve threshold to 0.9', { kind: 'set_strategy', key: 'auto_approve_above', value: 0.9 }],
    ['set concurrency to 4', { kind: 'set_strategy', key: 'concurrency', value: 4 }],
    ['set error policy to stop after 10', { kind: 'set_strategy', key: 'error_policy', value: { stop_after: 10 } }],
    ['set error policy to stop on first', { kind: 'set_strategy', key: 'error_policy', value: 'stop_on_first' }],
    ['set error policy to continue', { kind: 'set_strategy', key: 'error_policy', value: 'continue' }],
    ['why is DOB low?', { kind: 'ask', question: 'why', column: 'DOB' }],
    ['why customers.DOB?', { kind: 'ask', question: 'why', table: 'customers', column: 'DOB' }],
    ['reject orders: amounts are in cents', { kind: 'reject', table: 'orders', reason: 'amounts are in cents' }],
    ['reject orders.amount because amounts are in cents', { kind: 'reject', table: 'orders', column: 'amount', reason: 'amounts are in cents' }],
    ['reject: wrong target database', { kind: 'reject', reason: 'wrong target database' }],
    ['what is unmapped?', { kind: 'ask', question: 'unmapped' }],
    ['show the errors in the queue', { kind: 'ask', question: 'errors' }],
    ['what happens next?', { kind: 'ask', question: 'next' }],
    ['show plan', { kind: 'ask', question: 'plan' }],
    ['abort: wrong source', { kind: 'abort', reason: 'wrong source' }],
    ['show findings', { kind: 'ask', question: 'findings' }],
    ['what failed?', { kind: 'ask', question: 'findings' }],
    ['waive 1A2B3C4D because the label was corrected by hand.', { kind: 'waive', finding: '1a2b3c4d', reason: 'the label was corrected by hand' }],
    ['waive finding 1a2b3c4d: rounding differs by design', { kind: 'waive', finding: '1a2b3c4d', reason: 'rounding differs by design' }],
    ['revoke waiver 3', { kind: 'revoke_waiver', id: 3 }],
  ])('%s', (text, intent) => {
    expect(parseIntent(text)).toEqual(intent);
  });

  it('never guesses: anything else is unknown, and a rejection without a reason is incomplete', () => {
    for (const text of ['approve all of it maybe?', 'please do the thing', 'map', 'set batch size to lots', 'set error policy to whatever', 'drop table customers', 'approve; DROP TABLE x']) {
      expect(parseIntent(text), text).toEqual({ kind: 'unknown' });
    }
    expect(parseIntent('reject orders')).toMatchObject({ kind: 'incomplete' });
    // A waiver without a reason, or of something that is not a finding id, is explained, never guessed.
    expect(parseIntent('waive 1a2b3c4d')).toMatchObject({ kind: 'incomplete', hint: expect.stringContaining('show findings') });
    expect(parseIntent('waive everything because we are late')).toMatchObject({ kind: 'incomplete' });
    expect(parseIntent('revoke waiver three')).toEqual({ kind: 'unknown' });
  });

  it('understands every request its help lists', () => {
    const fill: Array<[RegExp, string]> = [[/TABLE\.COLUMN/g, 'customers.CUST_NM'], [/TARGET_COLUMN/g, 'full_name'], [/COLUMN/g, 'CUST_NM'], [/TABLE/g, 'customers'], [/EXPRESSION/g, 'upper(x)'], [/REASON/g, 'amounts are in cents'], [/FINDING/g, '1a2b3c4d'], [/\bN\b/g, '10']];
    const examples = GRAMMAR_HELP.flatMap((line) => line.split(' · ').map((e) => e.replace(/ (—|\().*$/, '')));
    expect(examples.length).toBeGreaterThan(20);
    for (const example of examples) {
      const text = fill.reduce((t, [re, v]) => t.replace(re, v), example);
      expect(parseIntent(text).kind, text).not.toMatch(/^(unknown|incomplete)$/);
    }
  });
});
