// Name similarity of identifiers: words of any naming convention, expanded through the dictionary, compared softly.
import { nameTokens } from '../identifiers.js';
import { ABBREVIATIONS, RELATED, SYNONYMS, WEAK_WORDS } from './dictionary.js';

/** One canonical word with its weight (weak words count little). */
export interface Word {
  word: string;
  weight: number;
}

const WEAK_WEIGHT = 0.25;
const RELATED_SIMILARITY = 0.8;
const PREFIX_SIMILARITY = 0.75;

const relatedPairs = new Set(RELATED.flatMap(([a, b]) => [`${a}|${b}`, `${b}|${a}`]));

/** Plural and inflection endings off, so `addresses` ~ `address`, `terminated` ~ `termination`. */
export function stem(word: string): string {
  let w = word;
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.length > 4 && /(ches|shes|sses|xes)$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us')) w = w.slice(0, -1);
  if (w.length > 6 && /(ion|ing)$/.test(w)) w = w.slice(0, -3);
  else if (w.length > 5 && w.endsWith('ed')) w = w.slice(0, -2);
  if (w.length > 4 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
}

const cache = new Map<string, Word[]>();

/** The canonical words of an identifier: split, abbreviations expanded, synonyms unified, stemmed. Memoised. */
export function canonicalWords(name: string): Word[] {
  const hit = cache.get(name);
  if (hit) return hit;
  const out: Word[] = [];
  for (const raw of nameTokens(name)) {
    const expanded = ABBREVIATIONS[raw] ?? raw;
    for (const part of expanded.split(' ')) {
      const canonical = SYNONYMS[part] ?? part;
      const weak = WEAK_WORDS.has(canonical) || canonical.length === 1 || /^[0-9]+$/.test(canonical);
      out.push({ word: stem(canonical), weight: weak ? WEAK_WEIGHT : 1 });
    }
  }
  if (cache.size > 100_000) cache.clear();
  cache.set(name, out);
  return out;
}

const wordIds = new Map<string, number>();
const pairMemo = new Map<number, number>();
const idOf = (w: string): number => {
  let id = wordIds.get(w);
  if (id === undefined) wordIds.set(w, (id = wordIds.size));
  return id;
};

/** {@link wordSimilarity}, memoised per word pair (schemas reuse few words many times). */
function memoWordSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  const key = idOf(a) * 1_048_576 + idOf(b);
  let s = pairMemo.get(key);
  if (s === undefined) {
    if (pairMemo.size > 1_000_000) pairMemo.clear();
    pairMemo.set(key, (s = wordSimilarity(a, b)));
  }
  return s;
}

/** Similarity of two canonical words: 1 equal, 0.8 related, 0.75 one a prefix (≥ 3 letters) of the other, else 0. */
export function wordSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  if (relatedPairs.has(`${a}|${b}`)) return RELATED_SIMILARITY;
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  if (short.length >= 3 && long.startsWith(short)) return PREFIX_SIMILARITY;
  return 0;
}

/**
 * Weighted soft Dice of two word lists in [0, 1]: each word is paired with its best still-unused counterpart; weak
 * words weigh little, so `is_terminated` ~ `TERM_FLG` scores high while `first_name` ~ `last_name` scores 0.5.
 */
export function wordsSimilarity(a: Word[], b: Word[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  const used = new Uint8Array(b.length);
  let matched = 0;
  for (const wa of a) {
    let best = 0;
    let bestJ = -1;
    for (let j = 0; j < b.length; j++) {
      if (used[j]) continue;
      const s = memoWordSimilarity(wa.word, b[j]!.word);
      if (s > best) {
        best = s;
        bestJ = j;
      }
    }
    if (bestJ >= 0) {
      used[bestJ] = 1;
      matched += best * Math.min(wa.weight, b[bestJ]!.weight) * 2;
    }
  }
  const total = a.reduce((s, w) => s + w.weight, 0) + b.reduce((s, w) => s + w.weight, 0);
  return Math.min(1, matched / total);
}

const strippedCache = new Map<string, Word[]>();
const tokenKeyCache = new Map<string, string>();

/** `canonicalWords(name)` without the words of `table`, memoised. */
function strippedWords(name: string, table: string): Word[] {
  const key = `${table}\u0000${name}`;
  let w = strippedCache.get(key);
  if (!w) {
    if (strippedCache.size > 200_000) strippedCache.clear();
    strippedCache.set(key, (w = withoutTableWords(canonicalWords(name), canonicalWords(table))));
  }
  return w;
}

function tokenKey(name: string): string {
  let k = tokenKeyCache.get(name);
  if (k === undefined) {
    if (tokenKeyCache.size > 200_000) tokenKeyCache.clear();
    tokenKeyCache.set(name, (k = nameTokens(name).join('_')));
  }
  return k;
}

/** Words of `words` without those naming the table (`EMP.EMP_FNM` → `first name`), unless nothing would remain. */
export function withoutTableWords(words: Word[], table: Word[]): Word[] {
  const tableWords = new Set(table.filter((w) => w.weight === 1).map((w) => w.word));
  const rest = words.filter((w) => !tableWords.has(w.word));
  return rest.length < words.length && rest.some((w) => w.weight === 1) ? rest : words;
}

/**
 * Score of a name that equals the other plus weak words only (`city` ~ `city_y`, `phone` ~ `phone2`, `active` ~
 * `is_active`). Such suffixes are how joins, merges and versioned copies tell equal names apart, so they say nothing
 * about which copy is meant: the pair ties with the bare name (just below it) and value evidence decides.
 */
const QUALIFIED_SIMILARITY = 0.96;

/** True when one word list is the other plus weak words (and they share at least one strong word). */
function onlyQualifierAdded(a: Word[], b: Word[]): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  if (short.length === long.length || !short.some((w) => w.weight === 1)) return false;
  const rest = [...long];
  for (const w of short) {
    const k = rest.findIndex((x) => x.word === w.word);
    if (k < 0) return false;
    rest.splice(k, 1);
  }
  return rest.every((w) => w.weight < 1);
}

export interface NameSimilarity {
  score: number;
  reason: string;
}

/**
 * Similarity of two identifiers in [0, 1]. 1 identical; 0.99 equal ignoring case and convention; else the soft Dice
 * of canonical words, also tried without the words of each column's own table name (legacy prefixes).
 */
export function nameSimilarity(a: string, b: string, tables?: { a: string; b: string }): NameSimilarity {
  if (a === b) return { score: 1, reason: 'identical names' };
  if (tokenKey(a) === tokenKey(b)) return { score: 0.99, reason: 'same name in another naming convention' };
  const wa = canonicalWords(a);
  const wb = canonicalWords(b);
  let score = wordsSimilarity(wa, wb);
  if (tables) {
    const sa = strippedWords(a, tables.a);
    const sb = strippedWords(b, tables.b);
    if (sa !== wa || sb !== wb) score = Math.max(score, wordsSimilarity(sa, sb), sa !== wa ? wordsSimilarity(sa, wb) : 0, sb !== wb ? wordsSimilarity(wa, sb) : 0);
  }
  if (score >= 0.999) return { score: 0.97, reason: 'same words after expanding abbreviations and synonyms' };
  if (score === 0) return { score: 0, reason: 'no common words' };
  // A qualifier-only pair already shares every strong word, so its soft Dice is high: skip the check below that.
  if (score >= 0.5 && onlyQualifierAdded(wa, wb)) return { score: QUALIFIED_SIMILARITY, reason: 'same name plus a qualifier that tells copies apart (a letter, a digit, is/flag)' };
  return { score: score * 0.95, reason: `names share words (similarity ${score.toFixed(2)})` };
}

/** A key that equal canonical names share: used to find candidate tables without comparing every pair. */
export function nameKey(name: string, table?: string): string {
  const w = table ? strippedWords(name, table) : canonicalWords(name);
  return w
    .filter((x) => x.weight === 1)
    .map((x) => x.word)
    .join(' ');
}
