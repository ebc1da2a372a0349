// Profiling a real SQLite source: inferred types, fingerprints, semantic and PII classes, validators, relationships.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog, ColumnDef } from '../../../core/catalog.js';
import { ColumnProfile } from '../../../core/profile.js';
import type { SourceConnector } from '../../../connectors/connector.js';
import { openSource } from '../../../connectors/open-source.js';
import { profileCatalog, type ProfileResult } from '../../../tools/analysis/profile-catalog.js';
import { completeWithLuhn } from '../../../tools/analysis/validators.js';
import { tempDir } from '../../fixtures/databases.js';

const dir = tempDir('sensei-profile-');
const file = join(dir.path, 'legacy.db');

/** A deterministic pseudo-random sequence, so the fixture is the same on every run. */
function lcg(seed: number) {
  let s = seed;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 1) / 2 ** 31;
}


const FIRST = ['Anna', 'Boris', 'Chloé', 'David', 'Emma', 'Farid', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Kira', 'Liam'];
const LAST = ['Meyer', 'Novak', 'Okafor', 'Petit', 'Quinn', 'Rossi', 'Schmidt', 'Tanaka', 'Ullmann', 'Vargas'];

beforeAll(() => {
  const rnd = lcg(7);
  const db = new Database(file);
  db.exec(`
    CREATE TABLE CUSTOMER (CUST_ID INTEGER PRIMARY KEY, CUST_FNM TEXT, CUST_LNM TEXT, EMAIL_ADDR TEXT, TEL_NO TEXT,
      BIRTH_DT TEXT, CARD_NO TEXT, ACCT_REF TEXT, ACTIVE_FLG TEXT, CTRY_CD TEXT, NOTES TEXT);
    CREATE TABLE ORDERS (ORDER_ID INTEGER PRIMARY KEY, CUST_ID INTEGER, ORDER_TOTAL DECIMAL(10,2), CREATED_AT TEXT, STATUS TEXT);
    CREATE TABLE ORDER_LINE (ORDER_ID INTEGER NOT NULL, LINE_NO INTEGER NOT NULL, QTY INTEGER, PRIMARY KEY (ORDER_ID, LINE_NO));
    CREATE TABLE SHIPMENT_ITEM (SHIP_ID INTEGER PRIMARY KEY, ORDER_ID INTEGER, LINE_NO INTEGER, WEIGHT_KG REAL);
  `);
  db.exec('BEGIN');
  const cust = db.prepare('INSERT INTO CUSTOMER VALUES (?,?,?,?,?,?,?,?,?,?,?)');
  for (let i = 1; i <= 400; i++) {
    const f = FIRST[i % FIRST.length]!;
    const l = LAST[Math.floor(rnd() * LAST.length)]!;
    const card = completeWithLuhn(`4${String(Math.floor(rnd() * 1e14)).padStart(14, '0')}`);
    // 16 digits that fail Luhn: the last digit of a valid number, shifted.
    const bad = completeWithLuhn(`5${String(Math.floor(rnd() * 1e14)).padStart(14, '0')}`);
    const notLuhn = bad.slice(0, 15) + String((+bad[15]! + 1) % 10);
    cust.run(
      i, f, l, `${f.toLowerCase()}.${l.toLowerCase()}${i}@mail.example.com`, `+49 30 ${String(1000000 + i * 37)}`,
      `${String(1 + (i % 28)).padStart(2, '0')}/${String(1 + (i % 12)).padStart(2, '0')}/${1950 + (i % 50)}`,
      card, notLuhn, i % 3 === 0 ? 'N' : 'Y', ['DE', 'FR', 'US', 'GB', 'IT'][i % 5], i % 4 === 0 ? null : `Called on ${i % 28} about the late delivery of the spare parts`,
    );
  }
  const ord = db.prepare('INSERT INTO ORDERS VALUES (?,?,?,?,?)');
  const line = db.prepare('INSERT INTO ORDER_LINE VALUES (?,?,?)');
  const ship = db.prepare('INSERT INTO SHIPMENT_ITEM VALUES (?,?,?,?)');
  let s = 1;
  for (let o = 1; o <= 1200; o++) {
    ord.run(o, 1 + Math.floor(rnd() * 400), Math.round(rnd() * 100000) / 100, `2024-0${1 + (o % 9)}-1${o % 10} 1${o % 10}:2${o % 10}:00`, ['NEW', 'PAID', 'SHIPPED'][o % 3]);
    const lines = 1 + (o % 3);
    for (let n = 1; n <= lines; n++) {
      line.run(o, n, 1 + (o % 5));
      if (n < 3) ship.run(s++, o, n, rnd() * 20);
    }
  }
  db.exec('COMMIT');
  db.close();
});
afterAll(() => dir.remove());

let source: SourceConnector;
let result: ProfileResult;
beforeAll(async () => {
  source = await openSource(`sqlite://${file}`);
  result = await profileCatalog(source, await source.catalog({ withCounts: true }));
});
afterAll(async () => source?.close());

const col = (catalog: Catalog, table: string, name: string): ColumnDef => {
  const c = catalog.tables.find((t) => t.name === table)?.columns.find((x) => x.name === name);
  if (!c) throw new Error(`${table}.${name} missing`);
  return c;
};
const profile = (table: string, name: string) => col(result.catalog, table, name).profile!;

describe('profileCatalog on a real SQLite file', () => {
  it('fills a valid profile on every column, with the whole table sampled when it is small', () => {
    for (const t of result.catalog.tables) {
      for (const c of t.columns) {
        expect(ColumnProfile.safeParse(c.profile).success, `${t.name}.${c.name}`).toBe(true);
        expect(c.profile!.sampleSize).toBe(t.rowCount);
        expect(c.profile!.description.length).toBeGreaterThan(10);
      }
    }
    expect(result.samples.every((s) => s.method === 'whole-table')).toBe(true);
    expect(profile('CUSTOMER', 'NOTES').nullRatio).toBeCloseTo(0.25, 5);
    expect(profile('CUSTOMER', 'CUST_ID').distinctRatio).toBe(1);
  });

  it('infers the types the text holds, with their formats', () => {
    expect(profile('CUSTOMER', 'BIRTH_DT')).toMatchObject({ inferredType: { kind: 'date' }, format: 'DD/MM/YYYY' });
    expect(profile('CUSTOMER', 'ACTIVE_FLG')).toMatchObject({ inferredType: { kind: 'boolean' }, format: 'Y/N' });
    expect(profile('ORDERS', 'CREATED_AT').inferredType.kind).toBe('timestamp');
    expect(profile('CUSTOMER', 'CARD_NO').inferredType.kind).toBe('text'); // digits, but kept as text: not a number
  });

  it('classifies semantic types and PII, and a checksum failure keeps a column from being a card number', () => {
    const got = (t: string, c: string) => [profile(t, c).semanticType, profile(t, c).pii];
    expect(got('CUSTOMER', 'CUST_FNM')).toEqual(['given_name', 'personal']);
    expect(got('CUSTOMER', 'CUST_LNM')).toEqual(['family_name', 'personal']);
    expect(got('CUSTOMER', 'EMAIL_ADDR')).toEqual(['email', 'personal']);
    expect(got('CUSTOMER', 'TEL_NO')).toEqual(['phone_number', 'personal']);
    expect(got('CUSTOMER', 'BIRTH_DT')).toEqual(['date_of_birth', 'sensitive']);
    expect(got('CUSTOMER', 'CARD_NO')).toEqual(['credit_card', 'sensitive']);
    expect(got('CUSTOMER', 'ACCT_REF')[0]).not.toBe('credit_card');
    expect(got('CUSTOMER', 'ACCT_REF')[1]).toBe('none');
    expect(got('CUSTOMER', 'ACTIVE_FLG')).toEqual(['boolean_flag', 'none']);
    expect(got('CUSTOMER', 'CTRY_CD')).toEqual(['country_code', 'none']);
    expect(got('CUSTOMER', 'NOTES')[0]).toBe('free_text');
    expect(got('ORDERS', 'ORDER_TOTAL')).toEqual(['currency_amount', 'none']);
    expect(got('CUSTOMER', 'CUST_ID')).toEqual(['identifier', 'none']);
    expect(profile('CUSTOMER', 'CARD_NO').semanticConfidence).toBeGreaterThan(0.85);
  });

  it('infers undeclared relationships from names and inclusion, composite keys included', () => {
    const rels = result.catalog.relationships ?? [];
    const find = (t: string, cols: string[]) => rels.find((r) => r.table === t && r.columns.join() === cols.join());
    expect(find('ORDERS', ['CUST_ID'])).toMatchObject({ refTable: 'CUSTOMER', refColumns: ['CUST_ID'] });
    expect(find('ORDERS', ['CUST_ID'])!.confidence).toBeGreaterThan(0.9);
    expect(find('ORDERS', ['CUST_ID'])!.evidence).toMatch(/inclusion 100%/);
    expect(find('SHIPMENT_ITEM', ['ORDER_ID', 'LINE_NO'])).toMatchObject({ refTable: 'ORDER_LINE', refColumns: ['ORDER_ID', 'LINE_NO'] });
    expect(find('ORDER_LINE', ['ORDER_ID'])).toMatchObject({ refTable: 'ORDERS', refColumns: ['ORDER_ID'] });
    // Quantities are not keys even when their values happen to be ids elsewhere.
    expect(find('ORDER_LINE', ['QTY'])).toBeUndefined();
    expect(profile('ORDERS', 'CUST_ID').semanticType).toBe('foreign_key');
  });

  it('samples large tables down to the configured size, and refuses a sample size that is not positive', async () => {
    const small = await profileCatalog(source, await source.catalog({ withCounts: true }), { sampleRows: 100, rand: () => 0.5 });
    expect(col(small.catalog, 'ORDERS', 'ORDER_ID').profile!.sampleSize).toBe(100);
    expect(small.samples.find((s) => s.table === 'ORDERS')!.method).toBe('database-sample');
    // The reference is still found when both sides are samples: looked up in the key on the source itself.
    const half = await profileCatalog(source, await source.catalog({ withCounts: true }), { sampleRows: 600 });
    const rel = half.catalog.relationships!.find((r) => r.table === 'ORDER_LINE' && r.columns.join() === 'ORDER_ID');
    expect(rel).toMatchObject({ refTable: 'ORDERS', refColumns: ['ORDER_ID'] });
    expect(rel!.evidence).toMatch(/looked up in ORDERS\.ORDER_ID on the source/);
    // A source that cannot look values up: inclusion estimated on the samples (scaled by the key's sampled share).
    const noLookup: SourceConnector = {
      dialect: source.dialect,
      database: source.database,
      capabilities: source.capabilities,
      catalog: (o) => source.catalog(o),
      countRows: (t) => source.countRows(t),
      readBatches: (t, o) => source.readBatches(t, o),
      sampleRows: (t, n) => source.sampleRows!(t, n),
      close: async () => {},
    };
    const estimated = await profileCatalog(noLookup, await source.catalog({ withCounts: true }), { sampleRows: 600 });
    const est = estimated.catalog.relationships!.find((r) => r.table === 'ORDER_LINE' && r.columns.join() === 'ORDER_ID');
    expect(est).toMatchObject({ refTable: 'ORDERS', refColumns: ['ORDER_ID'] });
    expect(est!.confidence).toBeLessThanOrEqual(0.85);
    expect(est!.evidence).toMatch(/key sampled/);
        await expect(profileCatalog(source, await source.catalog(), { sampleRows: 0 })).rejects.toThrow(/sample size 0/);
  });
});
