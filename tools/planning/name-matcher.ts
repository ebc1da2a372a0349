// Name similarity between source and target identifiers, from exact equality down to shared words.
import { nameTokens } from './identifiers.js';

export interface NameScore {
  score: number;
  reason: string;
}

const singular = (w: string): string =>
  w.endsWith('ies') && w.length > 4 ? `${w.slice(0, -3)}y` : w.endsWith('ses') ? w.slice(0, -2) : w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w;

/**
 * 1.0 identical; 0.98 identical ignoring case; 0.97 same words (`AlbumId` ~ `album_id`); 0.93 same words up to
 * plurals; below that the share of common words (Dice), scaled to at most 0.75 so it never reaches auto-approval.
 */
export function nameScore(a: string, b: string): NameScore {
  if (a === b) return { score: 1, reason: 'identical names' };
  if (a.toLowerCase() === b.toLowerCase()) return { score: 0.98, reason: 'names equal ignoring case' };
  const ta = nameTokens(a);
  const tb = nameTokens(b);
  if (ta.join('_') === tb.join('_')) return { score: 0.97, reason: 'same words in another naming convention' };
  const sa = ta.map(singular);
  const sb = tb.map(singular);
  if (sa.join('_') === sb.join('_')) return { score: 0.93, reason: 'same words up to plural forms' };
  const setB = new Set(sb);
  const common = new Set(sa.filter((w) => setB.has(w))).size;
  if (common === 0) return { score: 0, reason: 'no common words' };
  const dice = (2 * common) / (new Set(sa).size + setB.size);
  return { score: 0.75 * dice, reason: `${common} common word(s)` };
}
