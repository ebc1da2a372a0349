// `npm run eval:matching -- DIR [DIR…]`: runs the planner (no LLM) on evaluation cases and prints its accuracy.
import { relative } from 'node:path';
import { Thresholds } from '../core/plan.js';
import { buildPlan } from '../tools/planning/build-plan.js';
import { matchSchemas } from '../tools/planning/matching/match-schemas.js';
import { findCaseDirs, loadMatchingCase } from './matching-case.js';
import { overall, scorePlan, type MatchingFigures } from './matching-metrics.js';

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const band = (b: { mappings: number; correct: number }): string => (b.mappings === 0 ? '—' : `${b.correct}/${b.mappings} (${pct(b.correct / b.mappings)})`);

function line(name: string, f: MatchingFigures): string {
  return [
    name.padEnd(44),
    `P ${f.precision.toFixed(3)}`,
    `R ${f.recall.toFixed(3)}`,
    `F1 ${f.f1.toFixed(3)}`,
    `R@GT ${f.recallAtGt.toFixed(3)}`,
    `auto ${band(f.bands.auto)}`,
    `review ${band(f.bands.review)}`,
    `explicit ${band(f.bands.explicit)}`,
  ].join('  ');
}

export async function evalMatching(paths: string[], json: boolean): Promise<{ cases: Record<string, MatchingFigures>; overall: MatchingFigures }> {
  const dirs = paths.flatMap(findCaseDirs);
  if (dirs.length === 0) throw new Error(`no evaluation case (a folder with truth.csv) under ${paths.join(', ')}`);
  const thresholds = Thresholds.parse({});
  const cases: Record<string, MatchingFigures> = {};
  for (const dir of dirs) {
    const name = relative(process.cwd(), dir) || dir;
    const c = await loadMatchingCase(dir, name);
    const input = { source: c.source, target: c.target, sourceSamples: c.sourceSamples, targetSamples: c.targetSamples };
    const plan = buildPlan({ ...input, targetSchemaSource: 'existing', thresholds });
    const ranking = matchSchemas({ ...input, withRanking: true }).ranking ?? [];
    const figures = scorePlan(plan, c.truth, ranking);
    cases[name] = figures;
    if (!json) console.log(line(name, figures));
  }
  const all = overall(Object.values(cases));
  if (!json) console.log(line('OVERALL (micro; R@GT mean)', all));
  return { cases, overall: all };
}

const args = process.argv.slice(2);
const json = args.includes('--json');
const paths = args.filter((a) => a !== '--json');
if (paths.length === 0) {
  console.error('usage: npm run eval:matching -- DIR [DIR…] [--json]   (DIR: a case folder with truth.csv, or a folder of cases)');
  process.exit(2);
}
evalMatching(paths, json).then(
  (r) => {
    if (json) console.log(JSON.stringify(r, null, 2));
  },
  (e: unknown) => {
    console.error(`eval:matching: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
