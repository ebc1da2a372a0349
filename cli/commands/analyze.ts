// `sensei analyze`: profile a source (types, semantic and PII classes, relationships) and print it, or JSON for machines.
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import type { AnalysisReport } from '../../tools/analysis/analyze-source.js';

export const ANALYZE_HELP = `Usage: sensei analyze (--source URL | -c sensei.yaml) [--sample N] [--json] [--quiet]

Profiles every table of the source: declared and inferred type, null and distinct ratios, semantic type (email,
person name, date of birth, IBAN, card number…), PII class (none / personal / sensitive) with confidence, a short
description, and relationships (declared foreign keys and ones inferred from names and the data). Tables up to N rows
are read whole, larger ones sampled uniformly. No value is printed or stored; fingerprints are aggregates.
With OPENAI_API_KEY set, descriptions are written by the model from the statistics (never from values).

Options:
  --source URL        postgres://, mysql://, sqlite:///path, pglite:///path (or env://NAME holding it)
  -c, --config FILE   take the source from a sensei.yaml instead
  --sample N          rows sampled per table (default 100000)
  --json              print one object: { tables: [{ name, rows, columns: [{ name, declared_type, inferred_type,
                      null_ratio, distinct_ratio, semantic_type, pii, confidence, fingerprint: number[128], … }] }],
                      relationships: [...], timings_ms }
  --quiet             no progress on stderr`;

export interface AnalyzeArgs {
  source?: string | undefined;
  config?: string | undefined;
  sample?: string | undefined;
  json?: boolean | undefined;
  quiet?: boolean | undefined;
}

/** Runs the command; returns the exit code (0 ok; errors are thrown and mapped by main). */
export async function runAnalyze(a: AnalyzeArgs, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  if ((a.source === undefined) === (a.config === undefined)) {
    throw new ConfigError('sensei analyze needs exactly one of --source URL or -c sensei.yaml', { hint: 'see sensei analyze --help' });
  }
  let sampleRows: number | undefined;
  if (a.sample !== undefined) {
    sampleRows = Number(a.sample);
    if (!Number.isInteger(sampleRows) || sampleRows <= 0) {
      throw new ConfigError(`--sample must be a positive whole number of rows (got "${a.sample}")`, { hint: 'e.g. --sample 50000' });
    }
  }
  // Imported here, not at the top: cli/main.ts reads ANALYZE_HELP from this module and must stay light (see there).
  const [{ resolveEndpoint }, { openSource }, { analysisJson, analyzeSource }, { columnDescriberFromEnv }, { loadConfig }, { describeLlm, llmSettingsFromEnv }] = await Promise.all([
    import('../../connectors/endpoint.js'),
    import('../../connectors/open-source.js'),
    import('../../tools/analysis/analyze-source.js'),
    import('../../tools/analysis/describe-columns.js'),
    import('../../tools/ingest/load-config.js'),
    import('../../tools/llm/chat-model.js'),
  ]);
  let url: string;
  if (a.config !== undefined) {
    const loaded = await loadConfig(a.config);
    url = (await resolveEndpoint(loaded.config.source, { baseDir: dirname(resolve(a.config)), role: 'source' })).url;
  } else {
    url = (await resolveEndpoint({ url: a.source! }, { baseDir: process.cwd(), role: 'source' })).url;
  }
  const llm = llmSettingsFromEnv();
  const quiet = Boolean(a.quiet || a.json);
  if (!quiet) err.write(`descriptions: ${describeLlm(llm)}\n`);
  const source = await openSource(url);
  const started = Date.now();
  let report: AnalysisReport;
  try {
    report = await analyzeSource(source, {
      ...(sampleRows !== undefined ? { sampleRows } : {}),
      describer: columnDescriberFromEnv(process.env, (e) => err.write(`sensei: LLM descriptions failed, deterministic ones kept: ${(e as Error).message}\n`)),
      onTable: (done, total, table, rows) => {
        if (quiet) return;
        const secs = (Date.now() - started) / 1000;
        const eta = done === 0 ? 0 : Math.ceil((secs / done) * (total - done));
        err.write(`analyzed ${done}/${total} tables (${table}: ${rows.toLocaleString('en-US')} rows sampled)  ${(done / Math.max(secs, 0.001)).toFixed(1)} tables/s  ETA ${eta}s\n`);
      },
    });
  } finally {
    await source.close();
  }
  const timings = Object.fromEntries(Object.entries(report.timings).map(([k, v]) => [k, Math.round(v)]));
  if (a.json) {
    out.write(`${JSON.stringify({ ...analysisJson(report.catalog), timings_ms: timings }, null, 2)}\n`);
    return 0;
  }
  out.write(renderText(report));
  return 0;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

function renderText(report: AnalysisReport): string {
  const lines: string[] = [];
  for (const t of report.catalog.tables) {
    lines.push(`${t.name} (${t.rowCount ?? '?'} rows)`);
    const rows = t.columns.map((c) => {
      const p = c.profile;
      return p
        ? [c.name, c.declaredType, p.inferredType.kind + (p.format ? ` ${p.format}` : ''), pct(p.nullRatio), pct(p.distinctRatio), p.semanticType, p.pii, p.semanticConfidence.toFixed(2)]
        : [c.name, c.declaredType, '(generated)', '', '', '', '', ''];
    });
    const head = ['column', 'declared', 'inferred', 'null', 'distinct', 'semantic', 'pii', 'conf'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows]) lines.push(`  ${r.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd()}`);
    lines.push('');
  }
  const rels = report.catalog.relationships ?? [];
  lines.push(`Relationships (${rels.length})`);
  for (const r of rels) {
    lines.push(`  ${r.table}(${r.columns.join(', ')}) → ${r.refTable}(${r.refColumns.join(', ')})  ${r.confidence.toFixed(2)}  ${r.evidence}`);
  }
  return `${lines.join('\n')}\n`;
}
