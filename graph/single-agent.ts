// One agent on its own, outside a run (REST POST /agents/:agent): analyze a source, plan a source onto a target.
// Verification of a finished run is `reverifyRun`. The mapper is built as the runtime builds it (LLM from the
// environment, the pattern library), so a plan asked for here is the plan a run would propose.
import { resolve } from 'node:path';
import type { Catalog } from '../core/catalog.js';
import type { SenseiConfig } from '../core/config.js';
import type { Plan } from '../core/plan.js';
import type { PatternLibrary } from '../core/profile.js';
import { createMapper } from '../agents/mapper.js';
import { createSchemaAnalyst } from '../agents/schema-analyst.js';
import { resolveEndpoint } from '../connectors/endpoint.js';
import { openSource } from '../connectors/open-source.js';
import { openConnections } from '../tools/ingest/connections.js';
import { mappingModelFromEnv } from '../tools/llm/mapping-model.js';

/** The agents that can be run on their own. */
export const SINGLE_AGENTS = ['analyze', 'plan', 'verify'] as const;
export type SingleAgent = (typeof SINGLE_AGENTS)[number];

/** The schema analyst on the configured source; nothing else is opened. */
export async function analyzeOnly(config: Pick<SenseiConfig, 'source' | 'zero_dates'>, baseDir: string): Promise<Catalog> {
  const src = await resolveEndpoint(config.source, { baseDir, role: 'source' });
  const source = await openSource(src.url, config.zero_dates ? { zeroDates: config.zero_dates } : {});
  try {
    return await createSchemaAnalyst().analyze(source);
  } finally {
    await source.close();
  }
}

/** Analysis, then the mapper: the plan a run of this config would propose. The target is only read. */
export async function planOnly(config: SenseiConfig, baseDir: string, deps: { patterns?: PatternLibrary | null } = {}): Promise<{ catalog: Catalog; plan: Plan }> {
  const conns = await openConnections(config, baseDir);
  try {
    const catalog = await createSchemaAnalyst().analyze(conns.source);
    const strategy = config.strategy;
    const { plan } = await createMapper({ model: mappingModelFromEnv(), patterns: deps.patterns ?? null }).plan({
      source: catalog,
      target: conns.target,
      sourceConnector: conns.source,
      ...(config.target.schema ? { ddlPath: resolve(baseDir, config.target.schema) } : {}),
      thresholds: { autoApproveAbove: strategy.auto_approve_above, reviewAbove: strategy.review_above },
      ...(config.casts ? { casts: config.casts } : {}),
    });
    return { catalog, plan };
  } finally {
    await conns.close();
  }
}
