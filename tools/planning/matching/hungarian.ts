// One-to-one assignment maximising the total score (Hungarian method, O(n²m)), for rectangular score matrices.

/**
 * Returns, for each row, the column assigned to it or -1. Pairs whose score is below `min` are never assigned (they
 * are treated as impossible, so a weak pair cannot displace nothing).
 */
export function hungarian(scores: number[][], min = 0): number[] {
  const n = scores.length;
  const m = n === 0 ? 0 : scores[0]!.length;
  if (n === 0 || m === 0) return new Array<number>(n).fill(-1);
  // Square cost matrix with dummy rows/columns of cost 0: minimise (1 - score); impossible pairs cost like a dummy.
  const size = Math.max(n, m);
  const cost = (i: number, j: number): number => {
    if (i >= n || j >= m) return 1;
    const s = scores[i]![j]!;
    return s >= min ? 1 - s : 1;
  };
  const INF = Number.POSITIVE_INFINITY;
  const u = new Float64Array(size + 1);
  const v = new Float64Array(size + 1);
  const p = new Int32Array(size + 1);
  const way = new Int32Array(size + 1);
  for (let i = 1; i <= size; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(size + 1).fill(INF);
    const used = new Uint8Array(size + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= size; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= size; j++) {
        if (used[j]) {
          u[p[j]!] = u[p[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else minv[j] = minv[j]! - delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const out = new Array<number>(n).fill(-1);
  for (let j = 1; j <= size; j++) {
    const i = p[j]! - 1;
    if (i >= 0 && i < n && j - 1 < m && scores[i]![j - 1]! >= min) out[i] = j - 1;
  }
  return out;
}
