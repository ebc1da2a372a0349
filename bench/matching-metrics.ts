// Accuracy of a plan against true correspondences: precision, recall, F1, Recall@GT and per-band correctness.
import type { Band, Plan } from '../core/plan.js';
import { allMappings } from '../core/plan.js';
import type { RankedPair } from '../tools/planning/matching/match-schemas.js';
import type { Correspondence } from './matching-case.js';

export interface BandFigures {
  mappings: number;
  correct: number;
}

export interface MatchingFigures {
  truth: number;
  proposed: number;
  correct: number;
  precision: number;
  recall: number;
  f1: number;
  /** Share of true pairs among the top-|truth| ranked candidate pairs (as Valentine computes it). */
  recallAtGt: number;
  bands: Record<Band, BandFigures>;
}

const pairKey = (source: string, target: string): string => `${source}→${target}`;

export function scorePlan(plan: Plan, truth: Correspondence[], ranking: RankedPair[]): MatchingFigures {
  const truthSet = new Set(truth.map((c) => pairKey(c.source, c.target)));
  const mappings = allMappings(plan);
  const bands: Record<Band, BandFigures> = { auto: { mappings: 0, correct: 0 }, review: { mappings: 0, correct: 0 }, explicit: { mappings: 0, correct: 0 } };
  let correct = 0;
  for (const m of mappings) {
    const ok = truthSet.has(pairKey(`${m.sourceTable}.${m.sourceColumn}`, `${m.targetTable}.${m.targetColumn}`));
    bands[m.band].mappings++;
    if (ok) {
      bands[m.band].correct++;
      correct++;
    }
  }
  const top = ranking.slice(0, truthSet.size);
  const hits = top.filter((r) => truthSet.has(pairKey(r.source, r.target))).length;
  return combine(truthSet.size, mappings.length, correct, hits, bands);
}

function combine(truth: number, proposed: number, correct: number, gtHits: number, bands: Record<Band, BandFigures>): MatchingFigures {
  const precision = proposed === 0 ? 0 : correct / proposed;
  const recall = truth === 0 ? 0 : correct / truth;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { truth, proposed, correct, precision, recall, f1, recallAtGt: truth === 0 ? 0 : gtHits / truth, bands };
}

/** Micro-averaged figures over several cases (Recall@GT as the mean of the cases'). */
export function overall(cases: MatchingFigures[]): MatchingFigures {
  const sum = (f: (c: MatchingFigures) => number): number => cases.reduce((s, c) => s + f(c), 0);
  const bands = (['auto', 'review', 'explicit'] as const).reduce(
    (acc, b) => ({ ...acc, [b]: { mappings: sum((c) => c.bands[b].mappings), correct: sum((c) => c.bands[b].correct) } }),
    {} as Record<Band, BandFigures>,
  );
  const truth = sum((c) => c.truth);
  const gt = cases.length === 0 ? 0 : sum((c) => c.recallAtGt) / cases.length;
  const fig = combine(truth, sum((c) => c.proposed), sum((c) => c.correct), 0, bands);
  return { ...fig, recallAtGt: gt };
}
