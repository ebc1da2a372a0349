// The deterministic matcher: source tables → target tables, then columns inside each table pair, with calibrated scores.
import type { Catalog, ColumnDef, TableDef } from '../../../core/catalog.js';
import type { PatternHit } from '../../../core/profile.js';
import { pgTypeFor, pgTypeInfo, type PgFamily } from '../pg-types.js';
import { hungarian } from './hungarian.js';
import { canonicalWords, nameKey, nameSimilarity } from './name-similarity.js';
import { codeTranslation, columnKey, detectFormat, normaliseValue, valueOverlap, type ColumnSamples, type ValueFormat } from './value-evidence.js';

export interface MatchInput {
  source: Catalog;
  target: Catalog;
  /** Sample values of source columns (memory only). Optional: names, types and profiles suffice. */
  sourceSamples?: ColumnSamples;
  /** Sample values of target columns, when the target already holds data. */
  targetSamples?: ColumnSamples;
  /** Pattern-library hits per source column (`columnKey`), best first; asked before any heuristic. */
  patternHits?: ReadonlyMap<string, readonly PatternHit[]>;
  /** Also return every scored column pair, best first (for Recall@GT). Default false. */
  withRanking?: boolean;
}

export interface ColumnMatch {
  source: ColumnDef;
  target: ColumnDef;
  /** Evidence score in [0, 1] before the ambiguity discount. */
  score: number;
  /** Calibrated confidence in [0, 1]: the score, discounted when another pair is nearly as good. */
  confidence: number;
  origin: 'pattern' | 'heuristic';
  reasons: string[];
  /** The format the source values are in, when it needs more than a cast (dates as text, flags). */
  sourceFormat?: ValueFormat;
  /** The pattern library's transformation template (untrusted), when the match came from a pattern. */
  pattern?: PatternHit;
  /** Source code → target code, when the two columns hold the same few codes spelled differently. */
  codes?: Map<string, string>;
}

export interface TableMatch {
  source: TableDef;
  target: TableDef;
  confidence: number;
  reason: string;
  /** True when another source table maps into the same target table (merged target). */
  merged: boolean;
  columns: ColumnMatch[];
}

export interface RankedPair {
  source: string;
  target: string;
  score: number;
}

export interface MatchResult {
  tables: TableMatch[];
  ranking?: RankedPair[];
}

/** Below this a table pair is not proposed; a source table joins an already-used target (merge) only from MERGE_MIN. */
const TABLE_MIN = 0.5;
const MERGE_MIN = 0.6;
/** Below this a column pair is not proposed. */
const COLUMN_MIN = 0.45;
/** Two candidates closer than this share the doubt: the winner's confidence is discounted. */
const AMBIGUITY_MARGIN = 0.1;
/** Data evidence alone (no name support) never reaches auto-approval. */
const DATA_ONLY_CAP = 0.9;
/** Confidence cap for a pair whose name is not clearly better than a competitor's: review at most. */
const NOT_DISTINCT_CAP = 0.94;
/** Above this many tables on either side, table pairs are only scored when names or column keys share a word. */
const FULL_SCAN_LIMIT = 60;

interface PreparedTable {
  def: TableDef;
  columns: ColumnDef[];
  /** Canonical column keys, with and without the table's own words. */
  keys: Set<string>;
}

function prepare(t: TableDef): PreparedTable {
  const columns = t.columns.filter((c) => !c.isGenerated);
  const keys = new Set<string>();
  for (const c of columns) {
    keys.add(nameKey(c.name));
    keys.add(nameKey(c.name, t.name));
  }
  keys.delete('');
  return { def: t, columns, keys };
}

/** Matches a source catalog onto a target catalog. Pure and synchronous: pattern hits are fetched by the caller. */
export function matchSchemas(input: MatchInput): MatchResult {
  const sources = input.source.tables.map(prepare);
  const targets = input.target.tables.map(prepare);
  const tablePairs = matchTables(sources, targets);
  const samples = new SampleIndex(input.sourceSamples, input.targetSamples);
  const ranking: RankedPair[] = [];
  const scored = tablePairs.map((pair): ScoredPair => {
    const { columns, details } = matchColumns(pair.s, pair.t, tablePairs, samples, input.patternHits, input.withRanking ? ranking : undefined);
    // Only pairs merged into one target are looked at again; the others' evidence is dropped now (memory, GC).
    return { pair, columns, details: pair.merged ? details : [] };
  });
  shareQualifiedCopies(scored);
  const tables: TableMatch[] = scored.map(({ pair: { s, t, score, reason, merged }, columns }) => ({ source: s.def, target: t.def, confidence: round(score), reason, merged, columns }));
  ranking.sort((a, b) => b.score - a.score);
  return input.withRanking ? { tables, ranking } : { tables };
}

interface TablePair {
  s: PreparedTable;
  t: PreparedTable;
  score: number;
  reason: string;
  merged: boolean;
}

function tableScore(s: PreparedTable, t: PreparedTable): { score: number; reason: string } {
  const name = nameSimilarity(s.def.name, t.def.name);
  let shared = 0;
  for (const c of s.columns) if (t.keys.has(nameKey(c.name)) || t.keys.has(nameKey(c.name, s.def.name))) shared++;
  const content = s.columns.length === 0 ? 0 : shared / s.columns.length;
  const combined = Math.max(name.score, 0.6 * name.score + 0.4 * content, 0.9 * content);
  return { score: combined, reason: `${name.reason}; ${shared}/${s.columns.length} column names found in ${t.def.name}` };
}

function candidateTargets(s: PreparedTable, targets: PreparedTable[], byWord: Map<string, Set<number>>): number[] {
  if (targets.length <= FULL_SCAN_LIMIT) return targets.map((_, i) => i);
  const out = new Set<number>();
  const words = [...canonicalWords(s.def.name).map((w) => w.word), ...s.keys];
  for (const w of words) for (const i of byWord.get(w) ?? []) out.add(i);
  return [...out];
}

function matchTables(sources: PreparedTable[], targets: PreparedTable[]): TablePair[] {
  const byWord = new Map<string, Set<number>>();
  if (targets.length > FULL_SCAN_LIMIT) {
    targets.forEach((t, i) => {
      for (const w of [...canonicalWords(t.def.name).map((x) => x.word), ...t.keys]) {
        // Very common keys (`id`, `created at`) say nothing about which table is which.
        let set = byWord.get(w);
        if (!set) byWord.set(w, (set = new Set()));
        set.add(i);
      }
    });
    const limit = Math.max(10, targets.length / 10);
    for (const [w, set] of byWord) if (set.size > limit) byWord.delete(w);
  }
  const matrix = sources.map(() => new Array<number>(targets.length).fill(0));
  const reasons = new Map<string, string>();
  sources.forEach((s, i) => {
    for (const j of candidateTargets(s, targets, byWord)) {
      const r = tableScore(s, targets[j]!);
      matrix[i]![j] = r.score;
      reasons.set(`${i}:${j}`, r.reason);
    }
  });
  const assigned = hungarian(matrix, TABLE_MIN);
  const pairs: TablePair[] = [];
  const used = new Set<number>();
  assigned.forEach((j, i) => {
    if (j < 0) return;
    used.add(j);
    pairs.push({ s: sources[i]!, t: targets[j]!, score: matrix[i]![j]!, reason: reasons.get(`${i}:${j}`)!, merged: false });
  });
  // Several source tables into one target table (a denormalised target): only with strong column evidence.
  assigned.forEach((j, i) => {
    if (j >= 0) return;
    const row = matrix[i]!;
    let best = -1;
    for (let k = 0; k < row.length; k++) if (used.has(k) && (best < 0 || row[k]! > row[best]!)) best = k;
    if (best >= 0 && row[best]! >= MERGE_MIN) {
      pairs.push({ s: sources[i]!, t: targets[best]!, score: row[best]!, reason: `${reasons.get(`${i}:${best}`)!}; merged with other source tables`, merged: true });
    }
  });
  for (const p of pairs) if (pairs.some((q) => q !== p && q.t === p.t)) p.merged = true;
  return pairs.sort((a, b) => sources.indexOf(a.s) - sources.indexOf(b.s));
}

class SampleIndex {
  private readonly cache = new Map<string, Set<string> | undefined>();
  constructor(
    private readonly source?: ColumnSamples,
    private readonly target?: ColumnSamples,
  ) {}
  values(side: 'source' | 'target', table: string, column: string): Set<string> | undefined {
    const key = `${side}:${columnKey(table, column)}`;
    if (this.cache.has(key)) return this.cache.get(key);
    const raw = (side === 'source' ? this.source : this.target)?.get(columnKey(table, column));
    const set = raw && raw.length > 0 ? new Set(raw.map(normaliseValue)) : undefined;
    this.cache.set(key, set);
    return set;
  }
  raw(side: 'source' | 'target', table: string, column: string): readonly string[] | undefined {
    return (side === 'source' ? this.source : this.target)?.get(columnKey(table, column));
  }
}

/** The family the source values really are: a detected format wins over the declared type. */
function sourceFamily(c: ColumnDef, format: ValueFormat | undefined): PgFamily {
  if (format?.kind === 'date') return 'date';
  if (format?.kind === 'flag') return 'bool';
  const t = c.profile?.inferredType ?? c.logicalType;
  return pgTypeInfo(pgTypeFor(t)).family;
}

const LOSSLESS: Partial<Record<PgFamily, PgFamily[]>> = {
  int: ['numeric', 'float', 'text', 'bool'],
  numeric: ['float', 'text'],
  float: ['numeric', 'text'],
  bool: ['int', 'text'],
  date: ['timestamp', 'text'],
  timestamp: ['text', 'date'],
  uuid: ['text'],
  json: ['text'],
  text: ['json', 'uuid', 'other'],
};

/** 1 same family, 0.9 a lossless cast, 0.7 a cast that may fail for some values. */
function typeFit(sf: PgFamily, t: ColumnDef): { factor: number; reason: string } {
  const tf = pgTypeInfo(t.declaredType).family;
  if (sf === tf) return { factor: 1, reason: `same type family (${tf})` };
  if (LOSSLESS[sf]?.includes(tf)) return { factor: 0.9, reason: `${sf} → ${tf} cast` };
  return { factor: 0.7, reason: `${sf} → ${tf} may fail for some values` };
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

interface PairScore {
  score: number;
  nameScore: number;
  reasons: string[];
  pattern?: PatternHit;
  codes?: Map<string, string>;
}

interface ScoredPair {
  pair: TablePair;
  columns: ColumnMatch[];
  /** Evidence of every column pair of the table pair: `[source index][target index]`. */
  details: PairScore[][];
}

function matchColumns(
  s: PreparedTable,
  t: PreparedTable,
  tablePairs: TablePair[],
  samples: SampleIndex,
  patternHits: ReadonlyMap<string, readonly PatternHit[]> | undefined,
  ranking: RankedPair[] | undefined,
): Omit<ScoredPair, 'pair'> {
  const formats = s.columns.map((c) => {
    if (c.profile?.format) {
      const fromProfile = detectFormatName(c.profile.format);
      if (fromProfile) return fromProfile;
    }
    const raw = samples.raw('source', s.def.name, c.name);
    return raw ? detectFormat(raw) : undefined;
  });
  const fkParent = (table: TableDef, column: string): string | undefined => table.foreignKeys.find((fk) => fk.columns.length === 1 && fk.columns[0] === column)?.refTable;
  const matchedTables = new Set(tablePairs.map((p) => `${p.s.def.name}|${p.t.def.name}`));

  const details: PairScore[][] = s.columns.map((sc, i) =>
    t.columns.map((tc) => {
      const reasons: string[] = [];
      const name = nameSimilarity(sc.name, tc.name, { a: s.def.name, b: t.def.name });
      const fit = typeFit(sourceFamily(sc, formats[i]), tc);
      let score = name.score;
      reasons.push(name.reason, fit.reason);
      // Data evidence: value overlap, fingerprint similarity, agreeing semantic types.
      let evidence = 0;
      const overlap = valueOverlap(samples.values('source', s.def.name, sc.name), samples.values('target', t.def.name, tc.name));
      let codes: Map<string, string> | undefined;
      if (overlap) {
        evidence = overlap.containment * overlap.weight;
        const rawS = samples.raw('source', s.def.name, sc.name);
        const rawT = samples.raw('target', t.def.name, tc.name);
        codes = overlap.containment < 0.5 && rawS && rawT ? codeTranslation(rawS, rawT) : undefined;
        if (codes) {
          evidence = Math.max(evidence, 0.6);
          reasons.push(`codes translate one to one (${[...codes].map(([a, b]) => `${a}→${b}`).join(', ')})`);
        } else reasons.push(`value overlap ${(overlap.containment * 100).toFixed(0)}%`);
      }
      if (sc.profile && tc.profile) {
        const fp = cosine(sc.profile.fingerprint, tc.profile.fingerprint);
        evidence = Math.max(evidence, 0.8 * Math.max(0, fp));
        if (sc.profile.semanticType !== 'unknown' && sc.profile.semanticType === tc.profile.semanticType) {
          evidence = Math.max(evidence, 0.5);
          reasons.push(`both ${sc.profile.semanticType}`);
        }
      }
      if (evidence > 0) {
        score = 1 - (1 - score) * (1 - 0.85 * evidence);
        if (name.score < 0.3) score = Math.min(score, DATA_ONLY_CAP);
      }
      if (overlap && !codes) {
        // Where both sides hold data, values missing on the other side count against the pair, names or not.
        score *= 1 - 0.3 * overlap.weight * (1 - overlap.containment);
      }
      score *= fit.factor;
      // Structure: both columns reference tables that were matched to each other.
      const sp = fkParent(s.def, sc.name);
      const tp = fkParent(t.def, tc.name);
      if (sp && tp && matchedTables.has(`${sp}|${tp}`) && score > 0) {
        score = 1 - (1 - score) * 0.7;
        reasons.push(`both reference matched tables (${sp} → ${tp})`);
      }
      let pattern: PatternHit | undefined;
      const hit = patternHits?.get(columnKey(s.def.name, sc.name))?.find((h) => h.targetTable === t.def.name && h.targetColumn === tc.name);
      if (hit && hit.score >= 0.9 && hit.score >= score) {
        pattern = hit;
        score = hit.score;
        reasons.unshift(`pattern library: approved before by ${hit.provenance.approvedBy} (similarity ${hit.score.toFixed(2)})`);
      }
      return { score: Math.min(1, score), nameScore: name.score, reasons, ...(pattern ? { pattern } : {}), ...(codes ? { codes } : {}) };
    }),
  );
  const matrix = details.map((row) => row.map((d) => d.score));
  if (ranking) {
    details.forEach((row, i) =>
      row.forEach((d, j) => {
        if (d.score > 0) ranking.push({ source: columnKey(s.def.name, s.columns[i]!.name), target: columnKey(t.def.name, t.columns[j]!.name), score: d.score });
      }),
    );
  }
  const assigned = hungarian(matrix, COLUMN_MIN);
  const out: ColumnMatch[] = [];
  assigned.forEach((j, i) => {
    if (j < 0) return;
    const d = details[i]![j]!;
    let competitor = 0;
    matrix[i]!.forEach((x, k) => {
      if (k !== j) competitor = Math.max(competitor, x);
    });
    matrix.forEach((row, k) => {
      if (k !== i) competitor = Math.max(competitor, row[j]!);
    });
    const gap = d.score - competitor;
    let confidence = gap < AMBIGUITY_MARGIN ? d.score - (AMBIGUITY_MARGIN - gap) * 0.6 : d.score;
    const reasons = gap < AMBIGUITY_MARGIN ? [...d.reasons, `a competing pair scores ${competitor.toFixed(2)}`] : [...d.reasons];
    // Auto-approval needs a name that singles the pair out: data alone can agree by coincidence (denormalised copies).
    let nameCompetitor = 0;
    details[i]!.forEach((x, k) => {
      if (k !== j) nameCompetitor = Math.max(nameCompetitor, x.nameScore);
    });
    details.forEach((row, k) => {
      if (k !== i) nameCompetitor = Math.max(nameCompetitor, row[j]!.nameScore);
    });
    if (!d.pattern && d.nameScore - nameCompetitor < AMBIGUITY_MARGIN && confidence > NOT_DISTINCT_CAP) {
      confidence = NOT_DISTINCT_CAP;
      reasons.push(`another column's name is as close (${nameCompetitor.toFixed(2)})`);
    }
    const format = formats[i];
    out.push({
      source: s.columns[i]!,
      target: t.columns[j]!,
      score: round(d.score),
      confidence: round(Math.max(0, Math.min(1, confidence))),
      origin: d.pattern ? 'pattern' : 'heuristic',
      reasons,
      ...(format ? { sourceFormat: format } : {}),
      ...(d.pattern ? { pattern: d.pattern } : {}),
      ...(d.codes ? { codes: d.codes } : {}),
    });
  });
  return { columns: out, details };
}

/**
 * Several source tables merged into one target table bring equal column names, which the target tells apart with
 * qualifiers (`city`, `city_x`, `city_y`, as a join or merge names them). Names cannot say which copy belongs to which
 * source, and each table pair alone takes the copy that suits it best, even one another source suits better: so the
 * source columns that landed on such a family of copies are assigned to its members jointly, one to one (Hungarian,
 * the best total evidence). More claimants than copies means a shared column (a join key): left as it is.
 */
function shareQualifiedCopies(scored: ScoredPair[]): void {
  const byTarget = new Map<TableDef, ScoredPair[]>();
  for (const sp of scored) if (sp.pair.merged) byTarget.set(sp.pair.t.def, [...(byTarget.get(sp.pair.t.def) ?? []), sp]);
  for (const pairs of byTarget.values()) {
    const t = pairs[0]!.pair.t;
    const families = new Map<string, number[]>();
    t.columns.forEach((c, j) => {
      const key = nameKey(c.name);
      if (key !== '') families.set(key, [...(families.get(key) ?? []), j]);
    });
    for (const family of families.values()) {
      if (family.length < 2) continue;
      const members = family.map((j) => t.columns[j]!);
      const claimants = pairs.flatMap((sp) => sp.columns.filter((m) => !m.pattern && members.includes(m.target)).map((m) => ({ sp, m, i: sp.pair.s.columns.indexOf(m.source) })));
      if (claimants.length < 2 || claimants.length > family.length) continue;
      const matrix = claimants.map(({ sp, i }) => family.map((j) => sp.details[i]![j]!.score));
      const assigned = hungarian(matrix, COLUMN_MIN);
      claimants.forEach(({ sp, m, i }, k) => {
        const j = family[assigned[k]!];
        if (j === undefined) {
          sp.columns.splice(sp.columns.indexOf(m), 1);
          return;
        }
        const tc = t.columns[j]!;
        if (tc === m.target) return;
        const d = sp.details[i]!.at(j)!;
        const names = members.map((c) => c.name).join(', ');
        Object.assign(m, {
          target: tc,
          score: round(d.score),
          confidence: round(Math.min(d.score, NOT_DISTINCT_CAP)),
          reasons: [...d.reasons, `${names} are copies of one name in a merged table: given to its source tables one to one by their evidence`],
          codes: d.codes,
        });
        if (!d.codes) delete m.codes;
      });
    }
  }
}

/** A profile's format string (`YYYYMMDD`, `Y/N`) as a ValueFormat. */
function detectFormatName(format: string): ValueFormat | undefined {
  const dates = ['YYYYMMDD', 'DD/MM/YYYY', 'MM/DD/YYYY', 'YYYY-MM-DD', 'DD.MM.YYYY'] as const;
  const date = dates.find((d) => d === format);
  if (date) return { kind: 'date', format: date };
  const flag = /^([^/]+)\/([^/]+)$/.exec(format);
  if (flag) return detectFormat([flag[1]!, flag[2]!]);
  return undefined;
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
