// Byte-level text checks: double-encoded UTF-8 is told apart from correct text and from text that cannot be repaired.
import { describe, expect, it } from 'vitest';
import { classifyDoubleEncoding, DOUBLE_ENCODED_MARK } from '../../connectors/text-encoding.js';

/** What an ISO-8859-1 reading makes of UTF-8 bytes (0x80–0x9F become C1 controls). */
const viaLatin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

describe('classifyDoubleEncoding', () => {
  it('repairs UTF-8 read as cp1252, across every plane and the bytes cp1252 leaves undefined', () => {
    for (const meant of ['été à Paris', 'naïve – “quoted” …', '😀 emoji', 'Ångström Á', 'Ž š Œ œ Ÿ ™ €', 'Привет', '日本語']) {
      expect(classifyDoubleEncoding(viaLatin1(meant))).toEqual({ kind: 'double', text: meant });
    }
    // As MariaDB's latin1 (cp1252) gives them: 0x80–0x9F are € ‚ ƒ … Ÿ, the undefined 0x81/0x8D/0x8F/0x90/0x9D C1 controls.
    expect(classifyDoubleEncoding('naÃ¯ve â€“ â€œquotedâ€\u009d â€¦ â‚¬')).toEqual({ kind: 'double', text: 'naïve – “quoted” … €' });
    expect(classifyDoubleEncoding('Ã\u0081 Ã… Å“ Å¸ ðŸ˜€')).toEqual({ kind: 'double', text: 'Á Å œ Ÿ 😀' });
  });

  it('leaves correct text alone, including Latin-1 letters that happen to sit next to each other', () => {
    for (const fine of ['café', 'plain ascii', '', '日本語', 'Ÿ', 'ÿ£', 'Ô é', 'São Paulo', 'Ã']) {
      expect(classifyDoubleEncoding(fine)).toEqual({ kind: 'clean' });
    }
  });

  it('calls a value with the mark that does not round-trip broken, with the offset of the mark', () => {
    // A character outside cp1252 beside a mark.
    expect(classifyDoubleEncoding('x Ã© 日')).toEqual({ kind: 'broken', offset: 2 });
    // Correct cp1252 quotes next to a mark: the bytes 0x93/0x94 are not UTF-8.
    expect(classifyDoubleEncoding('Ã© “quoted”')).toEqual({ kind: 'broken', offset: 0 });
    // A lead byte without enough continuation bytes.
    expect(classifyDoubleEncoding('â€')).toEqual({ kind: 'broken', offset: 0 });
  });

  it('marks only a lead character followed by a continuation character', () => {
    expect(DOUBLE_ENCODED_MARK.test('Ã©')).toBe(true);
    expect(DOUBLE_ENCODED_MARK.test('Ã‰')).toBe(true);
    expect(DOUBLE_ENCODED_MARK.test('Ãx')).toBe(false);
    expect(DOUBLE_ENCODED_MARK.test('õ©')).toBe(false); // 0xF5 is never a UTF-8 lead byte
  });
});
