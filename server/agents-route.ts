// POST /agents/:agent — one agent on its own: analyze a source, plan a source onto a target, verify a finished run.
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { PatternLibrary } from '../core/profile.js';
import { reverifyRun } from '../graph/reverify.js';
import type { SenseiRuntime } from '../graph/runtime.js';
import { analyzeOnly, planOnly, SINGLE_AGENTS } from '../graph/single-agent.js';
import { parseConfig } from '../tools/ingest/load-config.js';

/** The request body of each agent; endpoints are validated by the config schema afterwards. */
const Body = {
  analyze: z.object({ source: z.record(z.string(), z.unknown()), zero_dates: z.unknown().optional(), base_dir: z.string().optional() }).strict(),
  plan: z
    .object({ source: z.record(z.string(), z.unknown()), target: z.record(z.string(), z.unknown()), strategy: z.unknown().optional(), casts: z.unknown().optional(), zero_dates: z.unknown().optional(), base_dir: z.string().optional() })
    .strict(),
  verify: z.object({ run_id: z.string().min(1).max(200), certify: z.boolean().optional() }).strict(),
} as const;

const USAGE = {
  analyze: '{ "source": { "url": … }, "base_dir"?: "/abs/dir" }',
  plan: '{ "source": { "url": … }, "target": { "url": …, "schema"?: "target.sql" }, "strategy"?: {…}, "base_dir"?: "/abs/dir" }',
  verify: '{ "run_id": "run_…", "certify"?: true }',
} as const;

export interface AgentRouteDeps {
  runtime: SenseiRuntime;
  home: string;
  baseDir: string;
  patterns: PatternLibrary | null;
}

export async function runAgent(agent: string, raw: unknown, deps: AgentRouteDeps): Promise<unknown> {
  if (!(SINGLE_AGENTS as readonly string[]).includes(agent)) throw new HTTPException(404, { message: `no agent "${agent}": analyze, plan or verify` });
  const name = agent as (typeof SINGLE_AGENTS)[number];
  const parsed = Body[name].safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    throw new HTTPException(400, { message: `${agent} needs ${USAGE[name]} (${problems}); nothing ran` });
  }
  const body = parsed.data as Record<string, unknown>;
  if (name === 'verify') {
    const runId = body.run_id as string;
    if (!(await deps.runtime.store.getRun(runId))) throw new HTTPException(404, { message: `no run ${runId}` });
    // certify: a passing run (approved waivers applied) gets its certificate issued again, as sensei verify --certify.
    const { certificatePath, ...verification } = await reverifyRun(deps.runtime, deps.home, runId, { certify: body.certify === true });
    return { agent, run_id: runId, verification, ...(certificatePath ? { certificate: certificatePath } : {}) };
  }
  const { base_dir: dir, ...rest } = body;
  const baseDir = typeof dir === 'string' ? dir : deps.baseDir;
  // Analysis reads only the source: the config schema still wants a target, which is never opened.
  const config = parseConfig(name === 'analyze' ? { ...rest, target: { url: 'pglite://memory' } } : rest, `POST /agents/${agent} body`);
  if (name === 'analyze') return { agent, catalog: await analyzeOnly(config, baseDir) };
  const { plan } = await planOnly(config, baseDir, { patterns: deps.patterns });
  return { agent, plan };
}
