import { MemorySaver } from '@langchain/langgraph';
import { describe, expect, it } from 'vitest';
import { createAmani } from '../../agents/amani.js';
import { createMapper } from '../../agents/mapper.js';
import { createSchemaAnalyst } from '../../agents/schema-analyst.js';
import { createVerifier } from '../../agents/verifier.js';
import { createMigrationGraph, routeAfterApproval, routeAfterDecision, routeAfterVerification } from '../../graph/migration-graph.js';
import type { MigrationStateT } from '../../graph/state.js';

describe('migration graph', () => {
  it('has the seven-stage topology: approval loops through apply_decision (back to plan on rejection), verification can end the run early', async () => {
    const graph = createMigrationGraph({
      checkpointer: new MemorySaver(),
      analyst: createSchemaAnalyst(),
      mapper: createMapper(),
      amani: createAmani(),
      verifier: createVerifier(),
      errors: { add: async () => undefined },
      connections: async () => {
        throw new Error('not used: the topology test runs no node');
      },
      certificatePath: (id) => `/tmp/${id}.json`,
      home: '/tmp',
    });
    const mermaid = (await graph.getGraphAsync()).drawMermaid();
    expect(mermaid).toMatchSnapshot();
  });

  it('routes on the decision and on the verification result', () => {
    const s = (patch: Partial<MigrationStateT>) => patch as MigrationStateT;
    expect(routeAfterApproval(s({ pendingAction: { action: 'approve', by: 'a' } }))).toBe('apply_decision');
    expect(routeAfterApproval(s({ pendingAction: null }))).toBe('capture');
    expect(routeAfterDecision(s({ decisionOutcome: 'applied' }))).toBe('approve');
    expect(routeAfterDecision(s({ decisionOutcome: 'refused' }))).toBe('approve');
    expect(routeAfterDecision(s({ decisionOutcome: 'replan' }))).toBe('plan');
    expect(routeAfterDecision(s({ decisionOutcome: 'abort' }))).toBe('__end__');
    expect(routeAfterVerification(s({ verification: { passed: true, checks: [] } }))).toBe('certify');
    expect(routeAfterVerification(s({ verification: { passed: false, checks: [] } }))).toBe('__end__');
  });
});

describe('AMANI', () => {
  const amani = createAmani();
  const plan = (confidences: number[]) =>
    ({
      tables: [
        {
          source: 's',
          target: 't',
          confidence: 1,
          rationale: '',
          sourceKey: [],
          columns: confidences.map((c, i) => ({
            sourceTable: 's',
            sourceColumn: `c${i}`,
            targetTable: 't',
            targetColumn: `c${i}`,
            transformation: 'x',
            targetType: 'text',
            confidence: c,
            band: c > 0.95 ? 'auto' : c >= 0.8 ? 'review' : 'explicit',
            origin: 'heuristic',
            rationale: 'r',
            validationRules: [],
          })),
        },
      ],
    }) as never;

  it('asks only when a mapping is outside the auto band and nothing was pre-approved', () => {
    expect(amani.request('r', plan([0.99, 1]), { preApproved: false })).toBeNull();
    expect(amani.request('r', plan([0.99, 0.5]), { preApproved: true })).toBeNull();
    const req = amani.request('r', plan([0.99, 0.9, 0.5]), { preApproved: false });
    expect(req?.counts).toEqual({ auto: 1, review: 1, explicit: 1, approved: 0 });
    expect(req?.pending.map((p) => p.sourceColumn)).toEqual(['c1', 'c2']);
    const later = amani.request('r', plan([0.99, 0.9, 0.5]), { preApproved: false, approvedKeys: ['s.c1->t.c1'] });
    expect(later?.counts).toEqual({ auto: 1, review: 0, explicit: 1, approved: 1 });
    expect(amani.request('r', plan([0.99, 0.9, 0.5]), { preApproved: false, approvedKeys: ['s.c1->t.c1', 's.c2->t.c2'] })).toBeNull();
  });

  it('accepts only a well-formed answer', () => {
    expect(amani.decide({ decision: 'approve', by: 'alice' })).toMatchObject({ decision: 'approve', by: 'alice' });
    expect(() => amani.decide({ decision: 'maybe', by: 'alice' })).toThrow(/decision/);
    expect(() => amani.decide({ decision: 'approve' })).toThrow(/by/);
    expect(() => amani.decide({ decision: 'approve', by: 'a', extra: 1 })).toThrow(/invalid approval answer/);
  });
});
