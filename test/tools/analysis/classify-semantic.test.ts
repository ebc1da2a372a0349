// Semantic rules that generalise beyond the evaluation set: person roles with name-shaped values, qualified names
// (`ADDR_TYP`), middle initials, abbreviated postal codes — each with the case that must not match.
import { describe, expect, it } from 'vitest';
import { classifySemantic } from '../../../tools/analysis/classify-semantic.js';
import { computeColumnStats } from '../../../tools/analysis/fingerprint.js';
import { inferType } from '../../../tools/analysis/infer-type.js';

function classify(table: string, column: string, values: Array<string | null>) {
  const stats = computeColumnStats(values);
  const declared = { kind: 'text' as const };
  return classifySemantic({ table, column, declared, inferred: inferType(declared, stats), stats, isPrimaryKey: false, isForeignKey: false });
}

const cycle = <T>(xs: T[], n: number) => Array.from({ length: n }, (_, i) => xs[i % xs.length]!);
const NAMES = ['Anna Meyer', 'Boris Novak', 'Chloé Okafor-Petit', 'David de la Cruz', "Liam O'Neill", 'Greta Rossi', 'Hugo Tanaka', 'Ines Vargas'];

describe('person names from a role word and name-shaped values', () => {
  it('a column named after a role or relation of a person, holding names or lists of names, is a person name', () => {
    const lists = NAMES.map((n, i) => (i % 3 === 0 ? `${n}, ${NAMES[(i + 1) % NAMES.length]}` : i % 3 === 1 ? `${n}/${NAMES[(i + 2) % NAMES.length]!.split(' ')[1]}` : n));
    for (const [table, column, values] of [
      ['track', 'Composer', cycle(lists, 60)],
      ['musicians', 'fatherLabel', cycle(NAMES, 40)],
      ['film', 'DIRECTOR_NM', cycle([...NAMES, null], 45)],
    ] as const) {
      const r = classify(table, column, [...values]);
      expect([column, r.semanticType, r.pii]).toEqual([column, 'person_name', 'personal']);
      expect(r.evidence).toMatch(/person by role/);
    }
  });

  it('a role word is not enough when the values are not names, and name-shaped values are not enough without one', () => {
    expect(classify('book', 'author', cycle(['anna_m', 'b.novak', 'chloe99'], 30)).semanticType).not.toBe('person_name');
    expect(classify('book', 'author', cycle(['17', '42', '108'], 30)).semanticType).not.toBe('person_name');
    expect(classify('book', 'owner', cycle(['ACME Corp 2', 'Big Ones 3'], 30)).semanticType).not.toBe('person_name');
    const titles = classify('album', 'title', NAMES.map((n) => `${n.split(' ')[0]} Goes Home`));
    expect([titles.semanticType, titles.pii]).toEqual(['label', 'none']);
  });
});

describe('handles under a name column', () => {
  it('single tokens of joined words in a person context are user names; single given names are not', () => {
    const slugs = ['Snoop-dogg', 'Buddy-holly', 'Prince', 'Weird-al-yankovic', 'Anna-faris', 'Madonna', 'Stevie-wonder', 'Kurt-cobain', 'Dave-grohl', 'Ella-fitzgerald', 'Beck'];
    const handles = classify('musicians', 'geniusNameLabel', cycle(slugs, slugs.length * 2));
    expect([handles.semanticType, handles.pii]).toEqual(['username', 'personal']);
    const names = slugs.map((x) => x.replaceAll('-', ' '));
    expect(classify('musicians', 'musicianName', cycle(names, names.length * 2)).semanticType).toBe('person_name');
    expect(classify('customer', 'first_name', cycle(['Anna', 'Jean-Pierre', 'Boris', 'Greta'], 40)).semanticType).toBe('given_name');
  });
});

describe('qualified names, initials and abbreviations', () => {
  it('a name that ends in a qualifier (type, kind, status…) is a code about the thing, not the thing', () => {
    expect(classify('EMP_ADDR', 'ADDR_TYP', cycle(['H', 'W', 'H', 'H'], 40)).semanticType).toBe('code');
    expect(classify('CONTACT', 'PHONE_KIND', cycle(['mobile', 'home', 'work'], 40)).semanticType).toBe('code');
    // Without the qualifier the same prefix still names the thing.
    expect(classify('EMP_ADDR', 'STR_ADDR', cycle(['23 Rue Verte', '223 Kenyatta Ave', '7 High St'], 40)).semanticType).toBe('address_line');
  });

  it('a middle initial is part of the given name; single letters under another name are not', () => {
    const initials = cycle(['A', 'M', 'R', 'J', 'K', null], 60);
    for (const column of ['minit', 'MIDDLE_INITIAL', 'mi']) expect([column, classify('employee', column, initials).semanticType]).toEqual([column, 'given_name']);
    expect(classify('employee', 'grade', initials).semanticType).not.toBe('given_name');
    expect(classify('employee', 'minit', cycle(['AB', 'xy', '12'], 30)).semanticType).not.toBe('given_name');
  });

  it('PST_CD is a postal code (and personal data) even when its values are all digits', () => {
    const r = classify('EMP_ADDR', 'PST_CD', cycle(['27401', '54636', '76825', '10115'], 40));
    expect([r.semanticType, r.pii]).toEqual(['postal_code', 'personal']);
  });
});
