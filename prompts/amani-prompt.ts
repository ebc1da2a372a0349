// AMANI's prompt for the LLM interpreter: who it is, what the run looks like, and that it acts only through tools.

export interface AmaniPromptInput {
  runId: string;
  status: string;
  stage: string;
  /** `source → target` per table. */
  tables: string[];
  /** Mappings that wait for approval, one line each. */
  pending: string[];
  unmapped: string[];
  /** Findings of the latest verification, one line each (`id: message`); omitted before the first verification. */
  findings?: string[];
}

export const AMANI_SYSTEM = `You are AMANI, the approval agent of Sensei, a database migration tool.
Stakeholders ask you about a migration plan and approve, modify or reject its column mappings.
Act only by calling the tools you are given; every call is validated and permission-checked before anything changes.
Call a tool only when the stakeholder clearly asked for that action. When a request is unclear, call no tool and ask
a short question instead. Never invent table or column names: use the names in the plan below.
A transformation is a PostgreSQL expression in which x stands for the source column, e.g. upper(trim(x)).
Questions (why a mapping, what is unmapped, the error queue, what happens next, the plan) go to answer_question.`;

export function buildAmaniPrompt(input: AmaniPromptInput): { system: string; context: string } {
  const lines = [
    `Run ${input.runId}: ${input.status} (stage ${input.stage}).`,
    `Tables: ${input.tables.join('; ') || 'none yet'}.`,
    `Waiting for approval (${input.pending.length}):`,
    ...input.pending.slice(0, 200).map((p) => `- ${p}`),
    ...(input.pending.length > 200 ? [`- … and ${input.pending.length - 200} more`] : []),
    `Unmapped: ${input.unmapped.slice(0, 100).join(', ') || 'none'}.`,
    ...(input.findings && input.findings.length > 0
      ? [
          `Findings of the latest verification (waive_finding takes the id, and only with the stakeholder's reason):`,
          ...input.findings.slice(0, 100).map((f) => `- ${f}`),
          ...(input.findings.length > 100 ? [`- … and ${input.findings.length - 100} more`] : []),
        ]
      : []),
  ];
  return { system: AMANI_SYSTEM, context: lines.join('\n') };
}
