import { describe, expect, it } from 'vitest';
import { nameTokens, snakeCase, quoteIdent } from '../../../tools/planning/identifiers.js';
import { nameSimilarity as nameScore } from '../../../tools/planning/matching/name-similarity.js';

describe('identifiers', () => {
  it('splits every naming convention into the same words', () => {
    expect(nameTokens('AlbumId')).toEqual(['album', 'id']);
    expect(nameTokens('album_id')).toEqual(['album', 'id']);
    expect(nameTokens('TBL_CUST')).toEqual(['tbl', 'cust']);
    expect(nameTokens('HTTPStatusCode')).toEqual(['http', 'status', 'code']);
    expect(snakeCase('InvoiceLine')).toBe('invoice_line');
  });
  it('quotes identifiers with embedded quotes doubled', () => {
    expect(quoteIdent('we"ird')).toBe('"we""ird"');
  });
});

describe('nameScore', () => {
  it('ranks identical > case-insensitive > convention > plural > partial > unrelated', () => {
    const scores = [
      nameScore('album_id', 'album_id'),
      nameScore('ALBUM_ID', 'album_id'),
      nameScore('AlbumId', 'album_id'),
      nameScore('customers', 'customer'),
      nameScore('cust_name', 'customer_name'),
      nameScore('zip', 'email'),
    ].map((s) => s.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores[0]).toBe(1);
    expect(scores[5]).toBe(0);
  });
  it('keeps partial matches below the auto-approval threshold', () => {
    expect(nameScore('first_name', 'name').score).toBeLessThan(0.8);
    expect(nameScore('first_name', 'last_name').score).toBeLessThan(0.6);
  });
  it('expands abbreviations and synonyms from the dictionary', () => {
    expect(nameScore('cust_nm', 'customer_name').score).toBe(0.97);
    expect(nameScore('TOWN', 'city').score).toBe(0.97);
    expect(nameScore('PST_CD', 'postal_code').score).toBe(0.97);
    expect(nameScore('ADDR_TYP', 'address_type').score).toBe(0.97);
    expect(nameScore('EMP_FNM', 'first_name', { a: 'EMP', b: 'employees' }).score).toBe(0.97);
    expect(nameScore('EMP_FNM', 'first_name').score).toBeLessThan(0.8);
    expect(nameScore('TERM_FLG', 'is_terminated').score).toBeGreaterThan(0.75);
  });
  it('treats a name plus a meaningless qualifier as nearly the same name, but not two different qualifiers', () => {
    expect(nameScore('city', 'city_y').score).toBe(0.96);
    expect(nameScore('phone_2', 'phone').score).toBe(0.96);
    expect(nameScore('active', 'is_active').score).toBe(0.96);
    expect(nameScore('address_1', 'address_2').score).toBeLessThan(0.8);
    expect(nameScore('city', 'city_name').score).toBeLessThan(0.8);
  });
});
