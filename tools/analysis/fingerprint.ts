// Column statistics from a sample and the 128-dimension fingerprint built from them (layout documented below).
import type { IrValue } from '../../core/batch.js';
import { FINGERPRINT_DIMENSIONS, type Fingerprint } from '../../core/profile.js';
import {
  BOOLEAN_WORDS,
  DECIMAL,
  EMAIL_SHAPE,
  INTEGER,
  IPV4,
  IPV6,
  PHONE_SHAPE,
  TIME,
  TIMESTAMP,
  URL_SHAPE,
  UUID,
  dateYear,
  valueKind,
  valueText,
} from './value-shapes.js';

/**
 * The fingerprint layout: named ranges `[start, end)` of the 128 dimensions. Every dimension is a share, a histogram
 * bin or a bounded, quantised aggregate in [0, 1], so the vector is non-negative and cosine similarity lies in [0, 1].
 * The whole vector is L2-normalised last: columns of different sizes, tables and databases compare by the *shape* of
 * their statistics, never by row counts.
 */
export const FINGERPRINT_LAYOUT = {
  /** null ratio, distinct ratio, is-unique, log-cardinality, top-1 share, top-10 share, value entropy, empty-text share. */
  cardinality: [0, 8],
  /** Share of non-null values of each kind: integer, decimal, boolean word, date, timestamp, time, uuid, email, url,
   * ip, phone shape, json, letters only, letters+digits, contains whitespace, binary. */
  kinds: [8, 24],
  /** Histogram of text lengths: 0,1,2,3,4,5,6–7,8–9,10–11,12–15,16–19,20–31,32–63,64–127,128–255,256+. */
  lengthHistogram: [24, 40],
  /** Mean length, length CV, min/max ratio, modal-length share, one-character share, distinct lengths, max length,
   * leading/trailing-space share (squashed and quantised to 1/16). */
  lengthStats: [40, 48],
  /** Share of characters per class: upper, lower, digit, space, - . @ / : _ , + parentheses, other punctuation,
   * non-ASCII, control. */
  characterClasses: [48, 64],
  /** numeric share, negative share, zero share, integer share, magnitude decades (<1, 1–10, …, ≥1e9: 8 bins), CV,
   * skewness, sequence density, leading-zero share (aggregates quantised to 1/16). */
  numeric: [64, 80],
  /** Shape signatures (A=upper, a=lower, 9=digit, punctuation kept) hashed into 32 bins, weighted by frequency. */
  shapes: [80, 112],
  /** all-upper, all-lower, title-case, starts-with-digit, ends-with-digit, words per value, letters-and-digits,
   * single-word share. */
  textStyle: [112, 120],
  /** Year of date-like values: <1900, 1900–49, 1950–79, 1980–99, 2000–09, 2010–19, ≥2020; share with a time of day. */
  temporal: [120, 128],
} as const satisfies Record<string, readonly [number, number]>;

/**
 * Weight of each range before normalisation. What a value *is* (kind, shape, characters) weighs more than how many
 * distinct values there are, which many unrelated columns share (every key is unique).
 */
export const BLOCK_WEIGHTS: Record<keyof typeof FINGERPRINT_LAYOUT, number> = {
  cardinality: 0.35,
  kinds: 1.5,
  lengthHistogram: 1,
  lengthStats: 0.5,
  characterClasses: 1.5,
  numeric: 1,
  shapes: 1.2,
  textStyle: 0.7,
  temporal: 1,
};

/** Aggregates of one column's sample, computed in one pass over its distinct values. Lives in memory only. */
export interface ColumnStats {
  rows: number;
  nulls: number;
  nonNull: number;
  /** Distinct non-null values by their text, with counts. In memory during analysis only; never stored. */
  distinct: Map<string, number>;
  /** Storage kinds seen (`text`, `integer`, `real`, `bytes`, `boolean`) and their counts. */
  kinds: Record<string, number>;
  binary: number;
  fingerprint: Fingerprint;
}

const LENGTH_BUCKETS = [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 32, 64, 128, 256];
/** bucketOf(LENGTH_BUCKETS, len) for every length below 256 (the last bucket holds the rest). */
const LENGTH_BUCKET_OF = Array.from({ length: 256 }, (_, len) => bucketOf(LENGTH_BUCKETS, len));
const MAGNITUDES = [1, 10, 100, 1e3, 1e4, 1e6, 1e9];
const PUNCT_SLOTS: Record<string, number> = { ' ': 3, '-': 4, '.': 5, '@': 6, '/': 7, ':': 8, _: 9, ',': 10, '+': 11, '(': 12, ')': 12 };
/** Character-class slot of each ASCII code that is not a letter or digit: control 15, listed punctuation, other 13. */
const PUNCT_SLOT_BY_CODE = Array.from({ length: 128 }, (_, ch) => (ch < 32 || ch === 127 ? 15 : (PUNCT_SLOTS[String.fromCharCode(ch)] ?? 13)));
const MIDNIGHT = /[ T]00:00(:00(\.0+)?)?/;

/**
 * Distinct values whose characters, kinds, numbers and shapes are examined at most. Beyond it a fixed-seed uniform
 * pick of the distinct values stands for all of them (weighted by count), so that the cost of a fingerprint is bounded
 * by this cap plus one cheap pass over the sample. Cardinality and length statistics always cover every value.
 */
export const FEATURE_CAP = 4_096;

const q16 = (x: number) => Math.round(Math.min(1, Math.max(0, x)) * 16) / 16;
const squash = (x: number, half: number) => x / (x + half);

function bucketOf(bounds: readonly number[], x: number): number {
  let i = 0;
  while (i < bounds.length - 1 && x >= bounds[i + 1]!) i++;
  return i;
}

/** 32-bit FNV-1a hash of a string (for hashing features into bins). */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Statistics and fingerprint of one column from its sampled values (any order); `featureCap` default FEATURE_CAP. */
export function computeColumnStats(values: readonly IrValue[], options: { featureCap?: number } = {}): ColumnStats {
  const featureCap = options.featureCap ?? FEATURE_CAP;
  const distinct = new Map<string, number>();
  const kinds: Record<string, number> = {};
  let nulls = 0;
  let binary = 0;
  // Counted in locals, the common kinds (strings, numbers) without a call per value: this pass sees every sampled value.
  let textKind = 0;
  let integerKind = 0;
  for (const v of values) {
    let t: string | null | undefined;
    if (typeof v === 'string') (t = v), textKind++;
    else if (typeof v === 'number' && Number.isInteger(v)) (t = String(v)), integerKind++;
    else {
      const k = valueKind(v);
      if (k !== 'null') kinds[k] = (kinds[k] ?? 0) + 1;
      t = valueText(v);
    }
    if (t === null) nulls++;
    else if (t === undefined) binary++;
    else distinct.set(t, (distinct.get(t) ?? 0) + 1);
  }
  if (textKind > 0) kinds.text = textKind;
  if (integerKind > 0) kinds.integer = (kinds.integer ?? 0) + integerKind;
  const rows = values.length;
  const nonNull = rows - nulls;
  const f = new Array<number>(FINGERPRINT_DIMENSIONS).fill(0);
  const texts = nonNull - binary;

  // cardinality
  // The ten largest counts (kept sorted, descending) and the entropy, in one pass without sorting every count.
  const top: number[] = [];
  let entropy = 0;
  for (const c of distinct.values()) {
    entropy -= (c / texts) * Math.log2(c / texts);
    if (top.length === 10 && c <= top[9]!) continue;
    let i = Math.min(top.length, 9);
    if (top.length < 10) top.push(c);
    while (i > 0 && top[i - 1]! < c) (top[i] = top[i - 1]!), i--;
    top[i] = c;
  }
  f[0] = rows === 0 ? 0 : nulls / rows;
  f[1] = nonNull === 0 ? 0 : distinct.size / Math.max(1, texts);
  f[2] = texts > 1 && distinct.size === texts ? 1 : 0;
  f[3] = q16(Math.log10(distinct.size + 1) / 6);
  f[4] = texts === 0 ? 0 : q16((top[0] ?? 0) / texts);
  f[5] = texts === 0 ? 0 : q16(top.reduce((a, b) => a + b, 0) / texts);
  f[6] = texts > 1 ? q16(entropy / Math.log2(texts)) : 0;

  // Lengths of every distinct value (cheap), weighted by its count; the values whose characters are examined are picked.
  let lenSum = 0;
  let lenSq = 0;
  let lenMin = Infinity;
  let lenMax = 0;
  let lenSpace = 0;
  // Count of values per length: an array below 256 characters, a map for the rare longer texts.
  const shortLenCounts = new Float64Array(256);
  const lenCounts = new Map<number, number>();
  const w = texts === 0 ? 0 : 1 / texts;
  const picked: Array<[string, number]> = [];
  const keep = distinct.size <= featureCap ? 1 : featureCap / distinct.size;
  // A fixed-seed generator: the same sample gives the same fingerprint, and periodic data cannot align with the pick.
  let seed = 0x9e3779b9;
  let pickedWeight = 0;
  for (const [t, c] of distinct) {
    const cw = c * w;
    const len = t.length;
    lenSum += len * c;
    lenSq += len * len * c;
    if (len < lenMin) lenMin = len;
    if (len > lenMax) lenMax = len;
    if (len < 256) shortLenCounts[len]! += c;
    else lenCounts.set(len, (lenCounts.get(len) ?? 0) + c);
    f[24 + (len < 256 ? LENGTH_BUCKET_OF[len]! : LENGTH_BUCKETS.length - 1)]! += cw;
    if (len === 0) f[7]! += cw;
    if (len > 0 && (t.charCodeAt(0) === 32 || t.charCodeAt(len - 1) === 32)) lenSpace += c;
    if (keep < 1) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      if (seed / 4294967296 >= keep) continue;
    }
    picked.push([t, c]);
    pickedWeight += c;
  }

  // Characters, kinds, numbers, shapes, style and years of the picked values, as shares of the picked weight.
  let chars = 0;
  let numerics = 0;
  let nSum = 0;
  let nSq = 0;
  let nCube = 0;
  let intMin = Infinity;
  let intMax = -Infinity;
  let intDistinct = 0;
  let words = 0;
  let dated = 0;
  let timed = 0;
  const pw = pickedWeight === 0 ? 0 : 1 / pickedWeight;
  for (const [t, c] of picked) {
    const cw = c * pw;
    const len = t.length;

    // Character classes (first 256 characters of long texts suffice for the mix).
    let upper = 0;
    let lower = 0;
    let digit = 0;
    let space = 0;
    const n = Math.min(len, 256);
    // One pass over the characters also hashes the shape (as fnv1a(shapeOf(t)) would) and counts the words.
    let shapeHash = 0x811c9dc5;
    let wc = 0;
    let inWord = false;
    for (let i = 0; i < n; i++) {
      const ch = t.charCodeAt(i);
      let slot: number;
      let shapeCode: number;
      if (ch >= 65 && ch <= 90) (slot = 0), upper++, (shapeCode = 65);
      else if (ch >= 97 && ch <= 122) (slot = 1), lower++, (shapeCode = 97);
      else if (ch >= 48 && ch <= 57) (slot = 2), digit++, (shapeCode = 57);
      else if (ch > 127) (slot = 14), (shapeCode = 117);
      else {
        slot = PUNCT_SLOT_BY_CODE[ch]!;
        shapeCode = ch;
      }
      if (slot === 3) space++;
      f[48 + slot]! += c;
      if (i < 24) shapeHash = Math.imul(shapeHash ^ shapeCode, 0x01000193);
      const white = ch === 32 || ch === 9 || ch === 10 || ch === 13;
      if (!white && !inWord) wc++;
      inWord = !white;
    }
    if (len > 24) shapeHash = Math.imul(shapeHash ^ 0x2026, 0x01000193);
    chars += n * c;

    // Kinds.
    const trimmed = t.trim();
    const tl = trimmed.length;
    const c0 = trimmed.charCodeAt(0);
    // Cheap guards first: most regexes can only match texts of a given first character, length or content.
    const startsNumeric = (c0 >= 48 && c0 <= 57) || c0 === 43 || c0 === 45 || c0 === 46;
    const isInt = startsNumeric && INTEGER.test(trimmed);
    const isDec = startsNumeric && !isInt && DECIMAL.test(trimmed);
    let kind = -1;
    let year: number | null = null;
    if (isInt) kind = 0;
    else if (isDec) kind = 1;
    else if (tl <= 5 && BOOLEAN_WORDS.has(trimmed.toLowerCase())) kind = 2;
    else if (startsNumeric && tl >= 16 && tl <= 35 && (year = dateYear(trimmed)) !== null && TIMESTAMP.test(trimmed)) kind = 4;
    else if (startsNumeric && tl >= 8 && tl <= 10 && (year = dateYear(trimmed)) !== null) kind = 3;
    else if (startsNumeric && tl <= 15 && trimmed.includes(':') && TIME.test(trimmed)) kind = 5;
    else if (tl === 36 && UUID.test(trimmed)) kind = 6;
    else if (trimmed.includes('@') && EMAIL_SHAPE.test(trimmed)) kind = 7;
    else if ((trimmed.includes('://') || trimmed.startsWith('www.')) && URL_SHAPE.test(trimmed)) kind = 8;
    else if ((startsNumeric && tl <= 15 && IPV4.test(trimmed)) || (trimmed.includes(':') && IPV6.test(trimmed))) kind = 9;
    else if (digit >= 7 && PHONE_SHAPE.test(trimmed)) kind = 10;
    else if ((c0 === 123 || c0 === 91) && (trimmed.endsWith('}') || trimmed.endsWith(']'))) kind = 11;
    else if (len > 0 && upper + lower === n) kind = 12;
    else if (len > 0 && upper + lower + digit === n) kind = 13;
    if (kind >= 0) f[8 + kind]! += cw;
    if (space > 0) f[22]! += cw;
    if (isInt && kind === 0 && len > 1 && trimmed[0] === '0') f[79]! += cw;

    // Numbers.
    if (isInt || isDec) {
      const x = Number(trimmed);
      numerics += c;
      if (x < 0) f[65]! += cw;
      if (x === 0) f[66]! += cw;
      if (Number.isInteger(x)) {
        f[67]! += cw;
        intMin = Math.min(intMin, x);
        intMax = Math.max(intMax, x);
        intDistinct++;
      }
      f[68 + bucketOf([0, ...MAGNITUDES], Math.abs(x))]! += cw;
      nSum += x * c;
      nSq += x * x * c;
      nCube += x * x * x * c;
    }

    // Shape and style.
    f[80 + ((shapeHash >>> 0) % 32)]! += cw;
    const letters = upper + lower;
    if (letters > 0 && lower === 0) f[112]! += cw;
    if (letters > 0 && upper === 0) f[113]! += cw;
    if (letters > 1 && len > 1 && t.charCodeAt(0) >= 65 && t.charCodeAt(0) <= 90 && t.charCodeAt(1) >= 97 && t.charCodeAt(1) <= 122) f[114]! += cw;
    if (len > 0 && t.charCodeAt(0) >= 48 && t.charCodeAt(0) <= 57) f[115]! += cw;
    if (len > 0 && t.charCodeAt(len - 1) >= 48 && t.charCodeAt(len - 1) <= 57) f[116]! += cw;
    words += wc * c;
    if (letters > 0 && digit > 0) f[118]! += cw;
    if (wc === 1) f[119]! += cw;

    // Dates.
    if ((kind === 3 || kind === 4) && year !== null) {
      dated += c;
      f[120 + bucketOf([0, 1900, 1950, 1980, 2000, 2010, 2020], year)]! += cw;
      if (kind === 4 && !MIDNIGHT.test(trimmed)) timed += c;
    }
  }

  if (texts > 0) {
    const mean = lenSum / texts;
    const sd = Math.sqrt(Math.max(0, lenSq / texts - mean * mean));
    f[40] = q16(squash(mean, 10));
    f[41] = mean === 0 ? 0 : q16(squash(sd / mean, 1));
    f[42] = lenMax === 0 ? 1 : q16(lenMin / lenMax);
    let modal = 0;
    let lengths = lenCounts.size;
    for (const n of lenCounts.values()) modal = Math.max(modal, n);
    for (const n of shortLenCounts) if (n > 0) (lengths++, (modal = Math.max(modal, n)));
    f[43] = q16(modal / texts);
    f[44] = q16(shortLenCounts[1]! / texts);
    f[45] = q16(squash(lengths, 4));
    f[46] = q16(squash(lenMax, 32));
    f[47] = q16(lenSpace / texts);
  }
  if (pickedWeight > 0) f[117] = q16(squash(words / pickedWeight, 2));
  if (chars > 0) for (let i = 48; i < 64; i++) f[i] = f[i]! / chars;
  if (numerics > 0 && pickedWeight > 0) {
    f[64] = numerics / pickedWeight;
    const mean = nSum / numerics;
    const variance = Math.max(0, nSq / numerics - mean * mean);
    const sd = Math.sqrt(variance);
    f[76] = mean === 0 ? (sd === 0 ? 0 : 1) : q16(squash(sd / Math.abs(mean), 1));
    const skew = sd === 0 ? 0 : (nCube / numerics - 3 * mean * variance - mean ** 3) / sd ** 3;
    f[77] = q16((squash(Math.abs(skew), 1) * Math.sign(skew) + 1) / 2);
    // Distinct integers per unit of their range, scaled up from the picked values to the whole column.
    f[78] = intDistinct > 1 ? q16(((intDistinct / Math.max(1, picked.length)) * distinct.size) / (intMax - intMin + 1)) : 0;
  }
  if (dated > 0) f[127] = q16(timed / dated);
  f[23] = nonNull === 0 ? 0 : binary / nonNull;

  for (const [block, [start, end]] of Object.entries(FINGERPRINT_LAYOUT)) {
    const weight = BLOCK_WEIGHTS[block as keyof typeof FINGERPRINT_LAYOUT];
    for (let i = start; i < end; i++) f[i] = f[i]! * weight;
  }
  return { rows, nulls, nonNull, distinct, kinds, binary, fingerprint: normalise(f) };
}

/** Distinct values a share is measured on at most: beyond this the first ones seen stand for the rest. */
export const SHARE_CAP = 2_000;

/**
 * Share of the non-null text values (weighted by count) that pass `test`, measured on at most `cap` distinct values
 * so that the cost of a check does not grow with the sample. 0 when there are none.
 */
export function shareOf(stats: Pick<ColumnStats, 'distinct'>, test: (text: string) => boolean, cap = SHARE_CAP): number {
  let n = 0;
  let total = 0;
  let seen = 0;
  for (const [t, c] of stats.distinct) {
    if (seen++ >= cap) break;
    total += c;
    if (test(t)) n += c;
  }
  return total === 0 ? 0 : n / total;
}

/** The vector scaled to unit length (all zeros stays all zeros: a column with no rows). */
export function normalise(v: number[]): number[] {
  const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return norm === 0 ? v : v.map((x) => x / norm);
}

/** Cosine similarity of two fingerprints (both already unit length), in [0, 1]. */
export function fingerprintSimilarity(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * (b[i] ?? 0);
  return Math.max(0, Math.min(1, dot));
}
