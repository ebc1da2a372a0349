// `sensei plan -c sensei.yaml [--json]`: analyze the source and print the mapping plan, without touching the target.
import type { SenseiConfig } from '../../core/config.js';
import { allMappings, type Plan } from '../../core/plan.js';

export const PLAN_HELP = `Usage: sensei plan -c sensei.yaml [--json]

Reads the source catalog and a sample of its values, finds the target schema (target.schema DDL file, the target's
existing tables, or generated from the source) and prints the mapping plan: table and column mappings with confidence,
band (auto > 0.95, review ≥ 0.80, explicit below; see strategy in the config), transformation, validation rules and
origin (pattern, heuristic, llm, generated), what stays unmapped on both sides, and the load phases. Nothing is written.
It is the plan a run of this config would propose: the pattern library of the Sensei store (SENSEI_HOME, or
SENSEI_STORE_URL) is asked first, so mappings approved in earlier runs come back with origin "pattern"; casts: apply.

With OPENAI_API_KEY (and OPENAI_BASE_URL, SENSEI_MODEL) set, columns below the review threshold are put to the model;
it sees names, types and statistics, never row values. Without it the plan is deterministic and says so.

Options:
  -c, --config FILE   the configuration file (required)
  --json              print one object: { tables, mappings, unmapped_source, unmapped_target, phases, warnings, llm }`;

/** The `--json` contract of `sensei plan`. */
export function planJson(plan: Plan, llm: string): Record<string, unknown> {
  return {
    tables: plan.tables.map((t) => ({ source: t.source, target: t.target, confidence: t.confidence })),
    mappings: allMappings(plan).map((m) => ({
      source: `${m.sourceTable}.${m.sourceColumn}`,
      target: `${m.targetTable}.${m.targetColumn}`,
      confidence: m.confidence,
      band: m.band,
      transformation: m.transformation,
      validation_rules: m.validationRules.map((r) => ({ rule: r.rule, predicate: r.predicate, message: r.message })),
      origin: m.origin,
      rationale: m.rationale,
    })),
    unmapped_source: plan.unmappedSource,
    unmapped_target: plan.unmappedTarget,
    phases: plan.phases,
    cyclic: plan.cyclic,
    target_schema: plan.targetSchemaSource,
    warnings: plan.warnings,
    llm,
  };
}

function human(plan: Plan, llm: string): string {
  const out = [`Target schema: ${plan.targetSchemaSource} · ${llm}`, ''];
  for (const t of plan.tables) {
    out.push(`${t.source} → ${t.target}  (confidence ${t.confidence.toFixed(2)})`);
    for (const m of t.columns) {
      out.push(`  [${m.band.padEnd(8)}] ${m.sourceColumn} → ${m.targetColumn}  ${m.confidence.toFixed(2)} ${m.origin}  ${m.transformation}`);
    }
  }
  if (plan.unmappedSource.length > 0) out.push('', `Unmapped source: ${plan.unmappedSource.join(', ')}`);
  if (plan.unmappedTarget.length > 0) out.push(`Unmapped target: ${plan.unmappedTarget.join(', ')}`);
  out.push('', `Phases: ${plan.phases.map((p) => `[${p.join(', ')}]`).join(' → ')}`);
  for (const w of plan.warnings) out.push(`warning: ${w}`);
  return `${out.join('\n')}\n`;
}

/** Plans the migration a config describes, as a run would (pattern library first). The target is only read. */
export async function runPlan(config: SenseiConfig, baseDir: string, json: boolean, storeAt: { home: string; url?: string }): Promise<number> {
  // Imported here, not at the top: cli/main.ts reads PLAN_HELP from this module and must stay light (see there).
  const [{ planOnly }, { describeLlm, llmSettingsFromEnv }, { createPatternLibrary }, { openStore }] = await Promise.all([
    import('../../graph/single-agent.js'),
    import('../../tools/llm/chat-model.js'),
    import('../../tools/patterns/pattern-library.js'),
    import('../../tools/store/sensei-store.js'),
  ]);
  const llm = describeLlm(llmSettingsFromEnv());
  const store = await openStore({ home: storeAt.home, ...(storeAt.url ? { url: storeAt.url } : {}) });
  try {
    const { plan } = await planOnly(config, baseDir, { patterns: createPatternLibrary(store.pool) });
    process.stdout.write(json ? `${JSON.stringify(planJson(plan, llm), null, 2)}\n` : human(plan, llm));
    return 0;
  } finally {
    await store.close();
  }
}
