// Prompt for the business-meaning descriptions of one table's columns, built from names and statistics only.

/** What the model is shown about a column: structure and statistics, never a value. */
export interface ColumnSummary {
  name: string;
  declaredType: string;
  inferredType: string;
  semanticType: string;
  pii: string;
  nullRatio: number;
  distinctRatio: number;
  /** Only date/time layout patterns such as `DD/MM/YYYY` (never values). */
  format?: string;
}

export interface TableSummary {
  table: string;
  rows: number | null;
  columns: ColumnSummary[];
}

export function buildDescribeColumnsPrompt(summary: TableSummary): Array<{ role: 'system' | 'user'; content: string }> {
  const lines = summary.columns.map(
    (c) =>
      `- ${c.name}: declared ${c.declaredType}, data looks like ${c.inferredType}${c.format ? ` (${c.format})` : ''}, semantic type ${c.semanticType}, PII ${c.pii}, ` +
      `${Math.round(c.nullRatio * 100)}% null, ${Math.round(c.distinctRatio * 100)}% distinct`,
  );
  return [
    {
      role: 'system',
      content:
        'You document legacy databases for a migration team. For each column write one short sentence of business meaning ' +
        '(what it records, for whom), based only on the names and statistics given. Do not invent values. Answer with every column listed.',
    },
    {
      role: 'user',
      content: `Table ${summary.table}${summary.rows === null ? '' : ` (${summary.rows} rows)`}. Columns:\n${lines.join('\n')}`,
    },
  ];
}
