import { describe, expect, it } from 'vitest';
import { buildMappingPrompt } from '../../prompts/mapping-prompt.js';

describe('buildMappingPrompt', () => {
  it('names, types and statistics only (snapshot)', () => {
    const prompt = buildMappingPrompt({
      source: { name: 'TBL_CUST.XQ7', declaredType: 'VARCHAR(8)', semanticType: 'date_of_birth', summary: 'inferred date, nulls 2%, distinct 97%, format YYYYMMDD' },
      candidates: [
        { name: 'customers.birth_date', declaredType: 'date' },
        { name: 'customers.full_name', declaredType: 'character varying(80)', semanticType: 'person_name' },
      ],
      heuristic: { target: 'customers.birth_date', confidence: 0.41 },
    });
    expect(prompt).toMatchSnapshot();
  });

  it('says when the name matcher had nothing', () => {
    expect(buildMappingPrompt({ source: { name: 'T.c', declaredType: 'text' }, candidates: [] }).user).toContain('The name matcher found no candidate.');
  });
});
