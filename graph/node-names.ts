// The graph's node names: one `as const` map, the only place they are spelled.
export const NODE = {
  analyze: 'analyze',
  plan: 'plan',
  approve: 'approve',
  apply_decision: 'apply_decision',
  capture: 'capture',
  execute: 'execute',
  verify: 'verify',
  certify: 'certify',
} as const;
export type NodeName = (typeof NODE)[keyof typeof NODE];
