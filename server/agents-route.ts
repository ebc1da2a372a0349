// POST /agents/:agent — one agent on its own: analyze a source, plan a source onto a target, verify a finished run.
import { HTTPException } from 'hono/http-exception';
import { createMapper } from '../agents/mapper.js';
import { createSchemaAnalyst } from '../agents/schema-analyst.js';
import { createVerifier } from '../agents/verifier.js';
import type { SenseiRuntime } from '../graph/runtime.js';
import { openConnections } from '../tools/ingest/connections.js';
import { parseConfig } from '../tools/ingest/load-config.js';

interface AgentBody {
  source?: unknown;
  target?: unknown;
  run_id?: unknown;
  base_dir?: unknown;
}

export async function runAgent(agent: string, raw: unknown, deps: { runtime: SenseiRuntime; baseDir: string }): Promise<unknown> {
  const body = (raw && typeof raw === 'object' ? raw : {}) as AgentBody;
  const baseDir = typeof body.base_dir === 'string' ? body.base_dir : deps.baseDir;
  switch (agent) {
    case 'analyze':
    case 'plan': {
      if (body.source === undefined) throw new HTTPException(400, { message: `${agent} needs { "source": { "url": … } }` });
      // Analysis alone still opens a target: an in-memory one that nothing is written to.
      const target = agent === 'plan' ? body.target : { url: 'pglite://memory' };
      if (target === undefined) throw new HTTPException(400, { message: 'plan needs { "source": …, "target": … }' });
      const config = parseConfig({ source: body.source, target }, `POST /agents/${agent}`);
      const conn = await openConnections(config, baseDir);
      try {
        const catalog = await createSchemaAnalyst().analyze(conn.source);
        if (agent === 'analyze') return { agent, catalog };
        const s = config.strategy;
        const { plan } = await createMapper().plan({
          source: catalog,
          target: conn.target,
          thresholds: { autoApproveAbove: s.auto_approve_above, reviewAbove: s.review_above },
          ...(config.target.schema ? { ddlPath: new URL(config.target.schema, `file://${baseDir}/`).pathname } : {}),
        });
        return { agent, plan };
      } finally {
        await conn.close();
      }
    }
    case 'verify': {
      if (typeof body.run_id !== 'string') throw new HTTPException(400, { message: 'verify needs { "run_id": "run_…" }' });
      const snap = await deps.runtime.inspect(body.run_id);
      const st = snap?.state;
      if (!st?.mappingPlan || !st.plannedTarget || st.outcomes.length === 0) {
        throw new HTTPException(409, { message: `run ${body.run_id} has not executed yet: nothing to verify` });
      }
      const conn = await openConnections(st.config, st.baseDir);
      try {
        const report = await createVerifier().verify(conn.target, { plan: st.mappingPlan, plannedTarget: st.plannedTarget, outcomes: st.outcomes });
        return { agent, run_id: body.run_id, verification: report };
      } finally {
        await conn.close();
      }
    }
    default:
      throw new HTTPException(404, { message: `no agent "${agent}": analyze, plan or verify` });
  }
}
