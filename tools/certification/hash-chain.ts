// The certificate's hash chain: source snapshot → plan → execution → target state, each link over the one before.
import type { CertificatePayload } from '../../core/certificate.js';
import { sha256Hex } from './canonical-json.js';

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
