// Relationships between tables: declared foreign keys, plus ones inferred from name evidence and inclusion measured on the data.
import type { Catalog, TableDef } from '../../core/catalog.js';
import type { InferredRelationship } from '../../core/profile.js';
import type { SourceConnector } from '../../connectors/connector.js';
import { nameTokens } from '../planning/identifiers.js';
import { SHARE_CAP, type ColumnStats } from './fingerprint.js';
import type { TableSample } from './sample-table.js';
import { valueText } from './value-shapes.js';

/**
 * What inference needs of one column's statistics, kept once its table is profiled (see `relationshipEvidence`):
 * counts, the first SHARE_CAP distinct values (the ones measured against keys), and every distinct value only for
 * a column that can be a key, so that a sample of 100,000 rows does not hold its whole distinct map until the end.
 */
export interface ColumnEvidence {
  rows: number;
  nulls: number;
  /** How many distinct non-null values the sample has. */
  distinctCount: number;
  /** The first SHARE_CAP distinct values, in the order the sample met them. */
  firstDistinct: readonly string[];
  /** Every distinct value, for a column that can be a single-column key; null for the others. */
  keyValues: { has(text: string): boolean } | null;
}

export interface RelationshipEvidence {
  /** What each column's statistics say, by table, then column. */
  stats: Map<string, Map<string, ColumnEvidence>>;
  /** Samples by table (for composite keys, whose tuples are measured row by row): only the columns named in a composite key. */
  samples: Map<string, TableSample>;
  /**
   * The source the samples came from. When it can `countMatches`, a column whose candidate key belongs to a sampled
   * (not whole) table is measured against that key on the source itself: at most MAX_PROBE_VALUES of the column's
   * sampled distinct values, one query per candidate pair. Default: none (estimated on the samples).
   */
  source?: Pick<SourceConnector, 'countMatches'>;
}

/** Inferred relationships below this confidence are not reported. Default 0.5. */
export const MIN_RELATIONSHIP_CONFIDENCE = 0.5;
/** Share of a column's distinct values that must be found in the key for inclusion. Default 0.95 (legacy data is dirty). */
export const MIN_INCLUSION = 0.95;
/** Distinct values of a column looked up in a sampled table's key on the source, per candidate pair. Default 1,000. */
export const MAX_PROBE_VALUES = 1_000;

const ID_WORDS = new Set(['id', 'no', 'num', 'nbr', 'code', 'key', 'ref', 'cd']);
const NON_KEY_SEMANTICS = new Set(['quantity', 'currency_amount', 'boolean_flag', 'date', 'timestamp', 'date_of_birth', 'free_text', 'time']);

const singular = (w: string): string =>
  w.endsWith('ies') && w.length > 4 ? `${w.slice(0, -3)}y` : w.endsWith('ses') ? w.slice(0, -2) : w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w;

/** How strongly the names say that column `col` refers to key `key` of table `ref`: 0 (no evidence) to 1. */
export function nameEvidence(col: string, ref: string, key: string): number {
  const c = nameTokens(col).map(singular);
  const k = nameTokens(key).map(singular);
  const t = nameTokens(ref).map(singular);
  const cj = c.join('_');
  const kj = k.join('_');
  const generic = k.length === 1 && ID_WORDS.has(k[0]!);
  if (cj === kj && !generic) return 0.9;
  if (cj === [...t, ...k].join('_')) return 0.9;
  const tail = c.slice(-k.length).join('_') === kj;
  const mentionsTable = t.every((w) => c.includes(w)) || (t.length === 1 && c.some((w) => w.length >= 3 && t[0]!.startsWith(w)));
  if (tail && mentionsTable) return 0.8;
  if (mentionsTable && ID_WORDS.has(c[c.length - 1] ?? '')) return 0.6;
  if (tail && !generic && c.length > k.length) return 0.6;
  return 0;
}

function kindClass(table: TableDef, column: string): string {
  const col = table.columns.find((c) => c.name === column);
  const kind = col?.profile?.inferredType.kind ?? col?.logicalType.kind ?? 'unknown';
  if (kind === 'int16' || kind === 'int32' || kind === 'int64') return 'integer';
  if (kind === 'char' || kind === 'varchar' || kind === 'text') return 'text';
  return kind;
}

/**
 * A column unique and never null in a complete sample of a table without declared keys (CSV imports, legacy files):
 * a candidate key.
 */
function isCandidateKey(rows: number, nulls: number, distinct: number, complete: boolean): boolean {
  return complete && rows > 1 && nulls === 0 && distinct === rows;
}

/** A column's name as composite keys are matched across tables (case and separators aside). */
const keyName = (column: string): string => nameTokens(column).join('_');

/**
 * What inference will need of one profiled table, and nothing more: per column the counts and first SHARE_CAP
 * distinct values, every distinct value of a column that can be a single-column key (declared alone as primary key or
 * unique, or a candidate key of a table without declared keys), and the sampled values of the columns whose name is
 * a column of some composite key of the catalog. Call as soon as the table's statistics are computed, then let its
 * sample and statistics go.
 */
export function relationshipEvidence(
  catalog: Catalog,
  table: TableDef,
  sample: TableSample,
  stats: ReadonlyMap<string, ColumnStats>,
): { stats: Map<string, ColumnEvidence>; sample: TableSample } {
  const singleKeys = new Set([table.primaryKey, ...table.uniques.map((u) => u.columns)].filter((k) => k.length === 1).map((k) => k[0]!));
  const undeclared = table.primaryKey.length === 0 && table.uniques.length === 0;
  const out = new Map<string, ColumnEvidence>();
  for (const [name, s] of stats) {
    const isKey = singleKeys.has(name) || (undeclared && isCandidateKey(s.rows, s.nulls, s.distinct.size, sample.complete));
    const firstDistinct: string[] = [];
    for (const text of s.distinct.keys()) {
      if (firstDistinct.length >= SHARE_CAP) break;
      firstDistinct.push(text);
    }
    out.set(name, { rows: s.rows, nulls: s.nulls, distinctCount: s.distinct.size, firstDistinct, keyValues: isKey && s.distinct.size > 0 ? s.distinct : null });
  }
  const compositeNames = new Set(
    catalog.tables.flatMap((t) => [t.primaryKey, ...t.uniques.map((u) => u.columns)].filter((k) => k.length > 1).flat().map(keyName)),
  );
  const kept = sample.columns.flatMap((c, i) => (compositeNames.has(keyName(c)) ? [i] : []));
  return {
    stats: out,
    sample: { ...sample, columns: kept.map((i) => sample.columns[i]!), values: kept.map((i) => sample.values[i]!) },
  };
}

/**
 * Declared foreign keys (confidence 1) and inferred ones. An inferred single-column relationship needs the column's
 * values to be included in a key of another table (measured on the samples) and either name evidence or, without
 * it, an identifier-like column; confidence = inclusion × (0.55 + 0.45 × name evidence). Composite keys are matched
 * by column names and measured on row tuples. One best target per column. A key of a table that was sampled is
 * measured on the source when `evidence.source` can (see `RelationshipEvidence.source`), else estimated on the samples.
 */
export async function inferRelationships(catalog: Catalog, evidence: RelationshipEvidence): Promise<InferredRelationship[]> {
  const out: InferredRelationship[] = [];
  const declared = new Set<string>();
  for (const t of catalog.tables) {
    for (const fk of t.foreignKeys) {
      out.push({ table: t.name, columns: fk.columns, refTable: fk.refTable, refColumns: fk.refColumns, confidence: 1, evidence: 'declared' });
      declared.add(`${t.name}\u0000${fk.columns.join(',')}`);
    }
  }

  const keys: Array<{ table: TableDef; columns: string[] }> = [];
  for (const t of catalog.tables) {
    if (t.primaryKey.length > 0) keys.push({ table: t, columns: t.primaryKey });
    for (const u of t.uniques) if (u.columns.join(',') !== t.primaryKey.join(',')) keys.push({ table: t, columns: u.columns });
    // Tables without any declared key (CSV imports, legacy files): columns unique and never null in a complete sample
    // act as candidate keys.
    if (t.primaryKey.length === 0 && t.uniques.length === 0) {
      const complete = evidence.samples.get(t.name)?.complete ?? false;
      for (const c of t.columns) {
        const s = evidence.stats.get(t.name)?.get(c.name);
        if (s && isCandidateKey(s.rows, s.nulls, s.distinctCount, complete)) keys.push({ table: t, columns: [c.name] });
      }
    }
  }

  for (const a of catalog.tables) {
    const aStats = evidence.stats.get(a.name);
    if (!aStats) continue;
    // Single-column candidates.
    for (const col of a.columns) {
      if (declared.has(`${a.name}\u0000${col.name}`)) continue;
      const s = aStats.get(col.name);
      if (!s || s.distinctCount === 0) continue;
      const semantic = col.profile?.semanticType ?? '';
      if (NON_KEY_SEMANTICS.has(semantic)) continue;
      let best: InferredRelationship | undefined;
      for (const key of keys) {
        if (key.columns.length !== 1) continue;
        const b = key.table;
        const k = key.columns[0]!;
        if (b.name === a.name && k === col.name) continue;
        if (a.primaryKey.length === 1 && a.primaryKey[0] === col.name && b.name !== a.name && nameEvidence(col.name, b.name, k) < 0.9) continue;
        if (kindClass(a, col.name) !== kindClass(b, k)) continue;
        const kValues = evidence.stats.get(b.name)?.get(k)?.keyValues;
        if (!kValues) continue;
        const name = nameEvidence(col.name, b.name, k);
        const idLike = ID_WORDS.has(nameTokens(col.name).at(-1) ?? '') || semantic === 'identifier';
        if (name === 0 && !(idLike && s.distinctCount >= 3)) continue;
        // Measured on at most SHARE_CAP distinct values: an estimate whose cost does not grow with the sample.
        let found = 0;
        let measured = 0;
        for (const v of s.firstDistinct) {
          if (measured++ >= SHARE_CAP) break;
          if (kValues.has(v)) found++;
        }
        const keySample = evidence.samples.get(b.name);
        const keyComplete = keySample?.complete ?? false;
        let measure: { inclusion: number; cap: number; needed: number; where: string } | undefined;
        if (!keyComplete && keySample && evidence.source?.countMatches) {
          // Pairs that cannot beat the best target found so far are not looked up: one query per useful pair.
          if (best && best.confidence >= round2(0.55 + 0.45 * name)) continue;
          const probed = await probeInclusion(evidence.source, b, k, s, kindClass(b, k), found, measured, keySample, b.rowCount);
          if (probed) {
            measure = { inclusion: probed.inclusion, cap: 1, needed: MIN_INCLUSION, where: `${probed.checked} of ${s.distinctCount} distinct values, looked up in ${b.name}.${k} on the source (key table sampled)` };
          }
        }
        if (!measure) {
          // Against a sampled key only the sampled share of key values can be found: a true reference shows an
          // inclusion near that share, so measure against it; and trust the estimate less.
          const keyShare = keyComplete || !keySample || !b.rowCount ? 1 : Math.min(1, keySample.rows / b.rowCount);
          measure = {
            inclusion: Math.min(1, found / Math.min(measured, s.distinctCount) / keyShare),
            cap: keyComplete ? 1 : 0.85,
            needed: keyComplete ? MIN_INCLUSION : 0.8,
            where: `${s.distinctCount} distinct values in ${b.name}.${k}${keyComplete ? '' : ` (key sampled: ${Math.round(keyShare * 100)}% of its rows; inclusion scaled)`}`,
          };
        }
        if (measure.inclusion < measure.needed) continue;
        const confidence = round2(Math.min(measure.cap, measure.inclusion) * (0.55 + 0.45 * name));
        if (confidence < MIN_RELATIONSHIP_CONFIDENCE) continue;
        if (!best || confidence > best.confidence) {
          best = {
            table: a.name,
            columns: [col.name],
            refTable: b.name,
            refColumns: [k],
            confidence,
            evidence: `${name > 0 ? `names (${name.toFixed(1)})` : 'identifier-like column'}; inclusion ${Math.round(measure.inclusion * 100)}% of ${measure.where}`,
          };
        }
      }
      if (best) out.push(best);
    }
    // Composite keys: every key column has a same-named column here.
    for (const key of keys) {
      if (key.columns.length < 2 || key.table.name === a.name) continue;
      const cols = key.columns.map((k) => a.columns.find((c) => keyName(c.name) === keyName(k))?.name);
      if (cols.some((c) => c === undefined)) continue;
      const aCols = cols as string[];
      if (declared.has(`${a.name}\u0000${aCols.join(',')}`)) continue;
      const inclusion = tupleInclusion(evidence.samples.get(a.name), aCols, evidence.samples.get(key.table.name), key.columns);
      if (inclusion === null || inclusion < MIN_INCLUSION) continue;
      out.push({
        table: a.name,
        columns: aCols,
        refTable: key.table.name,
        refColumns: key.columns,
        confidence: round2(inclusion * (0.55 + 0.45 * 0.9)),
        evidence: `names of all ${aCols.length} key columns; inclusion ${Math.round(inclusion * 100)}% of row tuples in ${key.table.name}(${key.columns.join(', ')})`,
      });
    }
  }
  return out;
}

/**
 * Inclusion of `s`'s distinct values in key `k` of `b`, looked up on the source: at most MAX_PROBE_VALUES values,
 * one query. Null when the lookup cannot run (the estimate on the samples is used instead). Skips the query when the
 * samples already rule a reference out: with at least 20 hits expected from the key's sample (the sampled share of
 * the key × values measured), finding fewer than half of them means most values are not in the key.
 */
async function probeInclusion(
  source: Pick<SourceConnector, 'countMatches'>,
  b: TableDef,
  k: string,
  s: ColumnEvidence,
  keyClass: string,
  sampledFound: number,
  sampledMeasured: number,
  keySample: TableSample,
  keyRows: number | null,
): Promise<{ inclusion: number; checked: number } | null> {
  const measured = Math.min(sampledMeasured, s.distinctCount);
  const expected = keyRows ? (measured * keySample.rows) / keyRows : 0;
  if (expected >= 20 && sampledFound < expected / 2) return { inclusion: sampledFound / expected, checked: measured };
  const kind = b.columns.find((c) => c.name === k)?.logicalType.kind;
  const declaredInteger = kind === 'int16' || kind === 'int32' || kind === 'int64';
  const values: Array<string | number> = [];
  let checked = 0;
  for (const text of s.firstDistinct) {
    if (checked >= MAX_PROBE_VALUES) break;
    checked++;
    // A value that cannot be an integer cannot be in an integer key: counted as not found, not sent.
    if (keyClass === 'integer' && !/^-?\d+$/.test(text)) continue;
    const n = Number(text);
    values.push(declaredInteger && Number.isSafeInteger(n) ? n : text);
  }
  if (checked === 0) return null;
  let matched: number;
  try {
    matched = await source.countMatches!(b, k, values);
  } catch {
    // A value the database cannot convert to the key's type fails the whole lookup: fall back to the samples.
    return null;
  }
  return { inclusion: Math.min(1, matched / checked), checked };
}

function tupleKeys(sample: TableSample, columns: string[]): Set<string> | null {
  const idx = columns.map((c) => sample.columns.indexOf(c));
  if (idx.some((i) => i < 0)) return null;
  const set = new Set<string>();
  for (let r = 0; r < sample.rows; r++) {
    const parts = idx.map((i) => valueText(sample.values[i]![r] ?? null));
    if (parts.some((p) => p === null || p === undefined)) continue;
    set.add(JSON.stringify(parts));
  }
  return set;
}

function tupleInclusion(a: TableSample | undefined, aCols: string[], b: TableSample | undefined, bCols: string[]): number | null {
  if (!a || !b) return null;
  const as = tupleKeys(a, aCols);
  const bs = tupleKeys(b, bCols);
  if (!as || !bs || as.size === 0) return null;
  let found = 0;
  for (const t of as) if (bs.has(t)) found++;
  return found / as.size;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
