// The certificate's hash chain: source snapshot → plan → execution → target state, each link over the one before.
import type { CertificatePayload } from '../../core/certificate.js';
import { canonicalJson, sha256Hex } from './canonical-json.js';

export type HashChain = CertificatePayload['chain'];

/** The digests the chain links, in chain order. */
export interface ChainInputs {
  source_snapshot: string;
  plan: string;
  execution: string;
  target_state: string;
}

const ORDER = ['source_snapshot', 'plan', 'execution', 'target_state'] as const;

/**
 * Build the chain: `links[0] = sha256(source_snapshot)`, `links[i] = sha256(links[i-1] + next)` in the order
 * source_snapshot, plan, execution, target_state; `final` is the last link. Strings are hashed as UTF-8.
 */
export function buildHashChain(inputs: ChainInputs): HashChain {
  const links: string[] = [];
  for (const name of ORDER) {
    const prev = links[links.length - 1];
    links.push(sha256Hex(prev === undefined ? inputs[name] : prev + inputs[name]));
  }
  return { ...pick(inputs), links, final: links[links.length - 1] as string };
}

/** Recompute the chain from its inputs; every link or `final` that differs is one problem. Empty when intact. */
export function checkHashChain(chain: HashChain): string[] {
  const expected = buildHashChain(chain);
  const problems: string[] = [];
  if (chain.links.length !== ORDER.length) {
    problems.push(`chain.links has ${chain.links.length} links, expected ${ORDER.length}`);
  }
  ORDER.forEach((name, i) => {
    const actual = chain.links[i];
    if (actual !== undefined && actual !== expected.links[i]) {
      const over = i === 0 ? name : `links[${i - 1}] + ${name}`;
      problems.push(`chain.links[${i}] does not match sha256(${over})`);
    }
  });
  if (chain.final !== expected.final) problems.push('chain.final does not match the last recomputed link');
  return problems;
}

function pick(c: ChainInputs): ChainInputs {
  return { source_snapshot: c.source_snapshot, plan: c.plan, execution: c.execution, target_state: c.target_state };
}

/**
 * The chain's four digests as the payload's own fields determine them: the captured source (per table rows and
 * root), the plan, the execution accounting, the target state (per table rows and root). A verifier recomputes them,
 * so a table root or count changed in the payload breaks the chain even before the signature is checked.
 */
export function chainInputsOf(p: Pick<CertificatePayload, 'tables' | 'plan'>): ChainInputs {
  return {
    source_snapshot: sha256Hex(
      canonicalJson(p.tables.map((t) => ({ table: t.source, read: t.rows_read, source_sha256: t.source_sha256, captured: t.rows_captured, root: t.captured_root }))),
    ),
    plan: sha256Hex(canonicalJson(p.plan)),
    execution: sha256Hex(canonicalJson(p.tables.map((t) => ({ table: t.source, read: t.rows_read, written: t.rows_written, errored: t.rows_errored })))),
    target_state: sha256Hex(
      // The bucket hash only where the table names it (format /3), so the chains of /2 certificates still recompute.
      canonicalJson(p.tables.map((t) => ({ table: t.target, rows: t.rows_written, buckets: t.buckets, ...(t.bucket_hash ? { bucket_hash: t.bucket_hash } : {}), columns: t.columns, key: t.key, root: t.target_root }))),
    ),
  };
}

/** Chain inputs that differ from what the payload's fields give; empty when they agree. */
export function checkChainInputs(p: Pick<CertificatePayload, 'tables' | 'plan' | 'chain'>): string[] {
  const expected = chainInputsOf(p);
  return ORDER.filter((name) => p.chain[name] !== expected[name]).map(
    (name) => `chain.${name} does not match the payload (${name === 'plan' ? 'plan' : name === 'execution' ? 'tables[] row counts' : 'tables[] rows and roots'})`,
  );
}
