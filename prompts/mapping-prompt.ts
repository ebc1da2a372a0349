// The prompt that asks a model to place one source column the deterministic matcher could not place with confidence.

/** What the model may know about a column: names, types and statistics. Never a row value. */
export interface PromptColumn {
  /** `TABLE.column`. */
  name: string;
  declaredType: string;
  /** Semantic type from profiling (`email`, `person_name`, …) when known. */
  semanticType?: string;
  /** One line of statistics: inferred type, null and distinct ratios, detected format. */
  summary?: string;
}

export interface MappingPromptInput {
  source: PromptColumn;
  /** Target columns it may map to (`table.column`). */
  candidates: PromptColumn[];
  /** What the deterministic matcher thought, if anything (`table.column` and its confidence). */
  heuristic?: { target: string; confidence: number };
}

export interface MappingPrompt {
  system: string;
  user: string;
}

const SYSTEM = `You map one column of a legacy source database to a column of a PostgreSQL target schema.
Answer with the tool, and only with:
- target: exactly one of the candidate target columns, written "table.column", or null when none fits;
- transformation: a PostgreSQL scalar expression over the source row alias src (for example CAST(src."HIRE_DT" AS date),
  to_date(src."DOB", 'YYYYMMDD'), CASE src."ACT_FLG" WHEN 'A' THEN true WHEN 'I' THEN false END), or null for a plain cast.
  Use only the source column given, literals, operators, CASE, CAST and ordinary text, number and date functions:
  no sub-queries, no other tables, no statements, no comments;
- rationale: one sentence on why;
- confidence: your probability in [0, 1] that the target is right. Say less when unsure: a wrong confident answer is
  worse than an honest doubt.
You never see row values; judge from names, types and statistics.`;

const line = (c: PromptColumn): string =>
  [`${c.name} ${c.declaredType}`, c.semanticType ? `semantic ${c.semanticType}` : '', c.summary ?? ''].filter((x) => x).join(' | ');

/** Builds the messages for one column. Pure: same input, same text (snapshot-tested). */
export function buildMappingPrompt(input: MappingPromptInput): MappingPrompt {
  const user = [
    `Source column: ${line(input.source)}`,
    '',
    'Candidate target columns:',
    ...input.candidates.map((c) => `- ${line(c)}`),
    '',
    input.heuristic
      ? `The name matcher's best guess was ${input.heuristic.target} with confidence ${input.heuristic.confidence.toFixed(2)}.`
      : 'The name matcher found no candidate.',
  ].join('\n');
  return { system: SYSTEM, user };
}
