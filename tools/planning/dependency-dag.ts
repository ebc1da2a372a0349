// Load order from foreign keys: phases of tables whose parents are loaded in an earlier phase.

export interface DependencyEdge {
  /** The referencing table. */
  child: string;
  /** The referenced table. */
  parent: string;
}

export interface DependencyDag {
  /** Phase i holds tables whose parents are all in phases < i, or in their own cycle. Names sorted within a phase. */
  phases: string[][];
  /** Tables in an FK cycle (including self-references). Their FKs must be enforced after the load. */
  cyclic: string[];
}

/**
 * Tarjan's strongly connected components, then a longest-path layering of the component graph: each cycle loads in
 * one phase, and a table never loads before a table it references.
 */
export function dependencyDag(tables: readonly string[], edges: readonly DependencyEdge[]): DependencyDag {
  const known = new Set(tables);
  const parentsOf = new Map<string, Set<string>>(tables.map((t) => [t, new Set<string>()]));
  const cyclic = new Set<string>();
  for (const e of edges) {
    if (!known.has(e.child) || !known.has(e.parent)) continue;
    if (e.child === e.parent) {
      cyclic.add(e.child);
      continue;
    }
    parentsOf.get(e.child)!.add(e.parent);
  }

  // Tarjan, iterative-safe enough for schemas (recursion depth ≤ number of tables).
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const componentOf = new Map<string, number>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of parentsOf.get(v)!) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        componentOf.set(w, components.length);
        comp.push(w);
      } while (w !== v);
      components.push(comp);
      if (comp.length > 1) comp.forEach((t) => cyclic.add(t));
    }
  };
  for (const t of [...tables].sort()) if (!idx.has(t)) visit(t);

  // Tarjan emits a component only after all components it references: layer in that order.
  const level = new Array<number>(components.length).fill(0);
  components.forEach((comp, c) => {
    for (const t of comp)
      for (const p of parentsOf.get(t)!) {
        const pc = componentOf.get(p)!;
        if (pc !== c) level[c] = Math.max(level[c]!, level[pc]! + 1);
      }
  });
  const phases: string[][] = [];
  components.forEach((comp, c) => {
    (phases[level[c]!] ??= []).push(...comp);
  });
  return { phases: phases.filter((p) => p.length > 0).map((p) => p.sort()), cyclic: [...cyclic].sort() };
}
