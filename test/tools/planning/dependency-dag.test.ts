import { describe, expect, it } from 'vitest';
import { dependencyDag } from '../../../tools/planning/dependency-dag.js';

describe('dependencyDag', () => {
  it('puts parents in earlier phases than their children', () => {
    const dag = dependencyDag(['orders', 'customers', 'items', 'products'], [
      { child: 'orders', parent: 'customers' },
      { child: 'items', parent: 'orders' },
      { child: 'items', parent: 'products' },
    ]);
    expect(dag).toEqual({ phases: [['customers', 'products'], ['orders'], ['items']], cyclic: [] });
  });

  it('keeps a cycle in one phase and marks it, with self-references marked but not ordering anything', () => {
    const dag = dependencyDag(['dept', 'emp', 'emp_proj', 'proj'], [
      { child: 'dept', parent: 'emp' },
      { child: 'emp', parent: 'dept' },
      { child: 'emp', parent: 'emp' },
      { child: 'emp_proj', parent: 'emp' },
      { child: 'emp_proj', parent: 'proj' },
    ]);
    expect(dag).toEqual({ phases: [['dept', 'emp', 'proj'], ['emp_proj']], cyclic: ['dept', 'emp'] });
  });

  it('ignores edges to tables outside the set and keeps isolated tables', () => {
    const dag = dependencyDag(['a', 'b'], [{ child: 'a', parent: 'zzz' }]);
    expect(dag).toEqual({ phases: [['a', 'b']], cyclic: [] });
  });

  it('orders a long chain without losing a table', () => {
    const names = Array.from({ length: 50 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    const edges = names.slice(1).map((n, i) => ({ child: n, parent: names[i]! }));
    const dag = dependencyDag(names, edges);
    expect(dag.phases).toEqual(names.map((n) => [n]));
  });
});
