// Profiling entry point: samples every table, fills ColumnDef.profile (types, fingerprint, semantics, PII) and Catalog.relationships.
import type { Catalog, TableDef } from '../../core/catalog.js';
import type { ColumnProfile } from '../../core/profile.js';
import type { SourceConnector } from '../../connectors/connector.js';
import { classifySemantic } from './classify-semantic.js';
import { createDeterministicDescriber, type ColumnDescriber, type TableSummary } from './describe-columns.js';
import { computeColumnStats, type ColumnStats } from './fingerprint.js';
import { inferRelationships, relationshipEvidence, type ColumnEvidence } from './infer-relationships.js';
import { inferType } from './infer-type.js';
import { DEFAULT_SAMPLE_ROWS, sampleTable, type TableSample } from './sample-table.js';

export interface ProfileOptions {
  /** Rows sampled per table. Default 100,000 (whole table up to that, then a uniform sample). */
  sampleRows?: number;
  /** Writes the business-meaning descriptions. Default: deterministic sentences from names and statistics. */
  describer?: ColumnDescriber;
  /** Called after each table is profiled. */
  onTable?: (done: number, total: number, table: string, sampledRows: number) => void;
  /** Random source for sampling. Default Math.random. */
  rand?: () => number;
}

/** Milliseconds per phase. */
export interface AnalysisTimings {
  /** Reading the sampled rows from the source. */
  sampling: number;
  /** Statistics and fingerprints of the sampled values. */
  statistical: number;
  /** CPU time of this process in the statistical phase (user + system): what the phase costs, whatever else loads the machine. */
  statisticalCpu: number;
  semantic: number;
  relationships: number;
  descriptions: number;
}

export interface ProfileResult {
  catalog: Catalog;
  timings: AnalysisTimings;
  /** How each table was sampled. */
  samples: Array<{ table: string; rows: number; method: TableSample['method'] }>;
}

const DATE_LAYOUT = /^[YMD/.\- ]+$/;

/**
 * Profile every table of `catalog` (read from `source`): sample, statistics and fingerprint, inferred type, semantic
 * type and PII class, description; then relationships (declared and inferred). Returns a new catalog; the input is
 * not changed. Sampled values stay in memory for the duration of the call only.
 */
export async function profileCatalog(source: SourceConnector, catalog: Catalog, options: ProfileOptions = {}): Promise<ProfileResult> {
  const limit = options.sampleRows ?? DEFAULT_SAMPLE_ROWS;
  const describer = options.describer ?? createDeterministicDescriber();
  const timings: AnalysisTimings = { sampling: 0, statistical: 0, statisticalCpu: 0, semantic: 0, relationships: 0, descriptions: 0 };
  // What relationship inference needs of each profiled table: the samples and distinct maps themselves are let go.
  const stats = new Map<string, Map<string, ColumnEvidence>>();
  const samples = new Map<string, TableSample>();
  const tables: TableDef[] = [];
  const sampled: ProfileResult['samples'] = [];
  let done = 0;

  for (const table of catalog.tables) {
    let t0 = performance.now();
    const sample = await sampleTable(source, table, limit, options.rand);
    sampled.push({ table: table.name, rows: sample.rows, method: sample.method });
    timings.sampling += performance.now() - t0;
    t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const tableStats = new Map<string, ColumnStats>();
    sample.columns.forEach((name, i) => tableStats.set(name, computeColumnStats(sample.values[i]!.slice(0, sample.rows))));
    const kept = relationshipEvidence(catalog, table, sample, tableStats);
    stats.set(table.name, kept.stats);
    samples.set(table.name, kept.sample);
    timings.statistical += performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    timings.statisticalCpu += (cpu.user + cpu.system) / 1000;

    t0 = performance.now();
    const fkColumns = new Set(table.foreignKeys.flatMap((fk) => fk.columns));
    const columns = table.columns.map((col) => {
      const s = tableStats.get(col.name);
      if (!s) return col; // generated columns are not read
      const inferred = inferType(col.logicalType, s);
      const sem = classifySemantic({
        table: table.name,
        column: col.name,
        declared: col.logicalType,
        inferred,
        stats: s,
        isPrimaryKey: table.primaryKey.length === 1 && table.primaryKey[0] === col.name,
        isForeignKey: fkColumns.has(col.name),
      });
      const kindNames = Object.keys(s.kinds);
      const profile: ColumnProfile = {
        inferredType: inferred.type,
        sampleSize: s.rows,
        nullRatio: s.rows === 0 ? 0 : s.nulls / s.rows,
        distinctRatio: s.nonNull === 0 ? 0 : Math.min(1, s.distinct.size / s.nonNull),
        fingerprint: s.fingerprint,
        semanticType: sem.semanticType,
        semanticConfidence: sem.confidence,
        pii: sem.pii,
        piiConfidence: sem.piiConfidence,
        description: '',
        ...(inferred.format ? { format: inferred.format } : {}),
        ...(kindNames.length > 1 ? { mixedKinds: s.kinds } : {}),
      };
      return { ...col, profile };
    });
    tables.push({ ...table, columns });
    timings.semantic += performance.now() - t0;
    options.onTable?.(++done, catalog.tables.length, table.name, sample.rows);
  }

  let t0 = performance.now();
  const profiled: Catalog = { ...catalog, tables };
  const relationships = await inferRelationships(profiled, { stats, samples, source });
  // A column found to reference another table's key is a foreign key, unless it already has a stronger meaning.
  for (const rel of relationships) {
    if (rel.confidence < 0.7 || rel.columns.length !== 1) continue;
    const col = tables.find((t) => t.name === rel.table)?.columns.find((c) => c.name === rel.columns[0]);
    if (col?.profile && ['identifier', 'quantity', 'code', 'unknown', 'label'].includes(col.profile.semanticType)) {
      const isOwnKey = tables.find((t) => t.name === rel.table)?.primaryKey.includes(col.name) ?? false;
      if (!isOwnKey) Object.assign(col.profile, { semanticType: 'foreign_key', semanticConfidence: Math.max(col.profile.semanticConfidence, rel.confidence) });
    }
  }
  timings.relationships = performance.now() - t0;
  samples.clear();
  stats.clear();

  t0 = performance.now();
  for (const table of tables) {
    const summary: TableSummary = {
      table: table.name,
      rows: table.rowCount,
      columns: table.columns.flatMap((c) =>
        c.profile
          ? [{
              name: c.name,
              declaredType: c.declaredType,
              inferredType: c.profile.inferredType.kind,
              semanticType: c.profile.semanticType,
              pii: c.profile.pii,
              nullRatio: round2(c.profile.nullRatio),
              distinctRatio: round2(c.profile.distinctRatio),
              ...(c.profile.format && DATE_LAYOUT.test(c.profile.format) ? { format: c.profile.format } : {}),
            }]
          : [],
      ),
    };
    const texts = await describer.describe(summary);
    for (const c of table.columns) if (c.profile) c.profile.description = texts[c.name] ?? '';
  }
  timings.descriptions = performance.now() - t0;

  return {
    catalog: { ...profiled, relationships },
    timings,
    samples: sampled,
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
