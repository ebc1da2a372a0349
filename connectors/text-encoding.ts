// Byte-level checks of text encodings, for sources whose drivers would otherwise replace bad bytes silently.
import { isUtf8 } from 'node:buffer';

/** Offset of the first byte that breaks UTF-8 in `b`, or -1 when all of it is valid UTF-8. */
export function invalidUtf8Offset(b: Uint8Array): number {
  if (isUtf8(b)) return -1;
  let i = 0;
  while (i < b.length) {
    const x = b[i]!;
    const need = x < 0x80 ? 0 : x >= 0xc2 && x <= 0xdf ? 1 : x >= 0xe0 && x <= 0xef ? 2 : x >= 0xf0 && x <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      const y = b[i + k];
      if (y === undefined || (y & 0xc0) !== 0x80) return i;
    }
    // Overlongs, surrogates and code points above U+10FFFF.
    const y = b[i + 1] ?? 0;
    if ((x === 0xe0 && y < 0xa0) || (x === 0xed && y > 0x9f) || (x === 0xf0 && y < 0x90) || (x === 0xf4 && y > 0x8f)) return i;
    i += need + 1;
  }
  return -1;
}
