// A 64-dimension vector of a column's name (hashed word and character-trigram counts), for cosine name similarity.
import { fnv1a } from '../analysis/fingerprint.js';
import { nameTokens } from '../planning/identifiers.js';

export const NAME_VECTOR_DIMENSIONS = 64;


/**
 * Unit vector of the column name's words (weight 1) and character trigrams of each word (weight 0.5), plus the
 * table name's words (weight 0.25): naming conventions (`AlbumId`, `album_id`, `ALBUM_ID`) give the same vector.
 * All zeros for a name without letters or digits.
 */
export function nameVector(tableName: string, columnName: string): number[] {
  const v = new Array<number>(NAME_VECTOR_DIMENSIONS).fill(0);
  const add = (feature: string, weight: number) => {
    v[fnv1a(feature) % NAME_VECTOR_DIMENSIONS]! += weight;
  };
  for (const w of nameTokens(columnName)) {
    add(`w:${w}`, 1);
    const padded = `^${w}$`;
    for (let i = 0; i + 3 <= padded.length; i++) add(`t:${padded.slice(i, i + 3)}`, 0.5);
  }
  for (const w of nameTokens(tableName)) add(`w:${w}`, 0.25);
  const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return norm === 0 ? v : v.map((x) => x / norm);
}
