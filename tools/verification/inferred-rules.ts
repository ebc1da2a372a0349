// Semantic perspective, second half: business rules inferred from the analysis (each mapped column's semantic type:
// formats, code sets by shape, plausible ranges), checked on the target like the configuration's `rules:`.
import type { Catalog } from '../../core/catalog.js';
import type { RuleConfig } from '../../core/config.js';
import type { Plan } from '../../core/plan.js';
import { quoteIdent } from '../planning/identifiers.js';

/** Default pass threshold of an inferred rule (the design's 94–98% band; the analysis reads a sample, not every row). */
export const INFERRED_RULE_THRESHOLD = 0.95;

/** Below this confidence the analysis' semantic type is not trusted enough to check. */
const MIN_CONFIDENCE = 0.8;

/** Predicate over the target column `c` (already quoted and qualified) per semantic type. NULL always passes. */
const PREDICATES: Record<string, { what: string; predicate: (c: string) => string }> = {
  email: { what: 'e-mail format', predicate: (c) => `${c} ~ '^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$'` },
  url: { what: 'URL format', predicate: (c) => `${c} ~* '^[a-z][a-z0-9+.-]*://[^[:space:]]+$'` },
  uuid: { what: 'UUID format', predicate: (c) => `${c}::text ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'` },
  country_code: { what: 'ISO country code shape', predicate: (c) => `${c} ~ '^[A-Za-z]{2,3}$'` },
  currency_code: { what: 'ISO currency code shape', predicate: (c) => `${c} ~ '^[A-Za-z]{3}$'` },
  ip_address: { what: 'IP address format', predicate: (c) => `${c}::text ~ '^([0-9]{1,3}[.]){3}[0-9]{1,3}(/[0-9]+)?$' OR ${c}::text ~* '^[0-9a-f:]+(/[0-9]+)?$'` },
  date_of_birth: { what: 'plausible date of birth', predicate: (c) => `${c} >= DATE '1900-01-01' AND ${c} <= current_date` },
};

/**
 * One rule per mapped column whose source column the analysis classified (confidence ≥ 0.8) as a type with a known
 * shape. Rule names say they were inferred and where from; thresholds are `INFERRED_RULE_THRESHOLD`.
 */
export function inferRules(plan: Plan, sourceCatalog: Catalog | null | undefined): RuleConfig[] {
  if (!sourceCatalog) return [];
  const rules: RuleConfig[] = [];
  for (const t of plan.tables) {
    const table = sourceCatalog.tables.find((x) => x.name === t.source);
    for (const m of t.columns) {
      const profile = table?.columns.find((c) => c.name === m.sourceColumn)?.profile;
      const known = profile && profile.semanticConfidence >= MIN_CONFIDENCE ? PREDICATES[profile.semanticType] : undefined;
      if (!known) continue;
      const c = `t.${quoteIdent(m.targetColumn)}`;
      rules.push({
        name: `inferred: ${known.what} of ${t.target}.${m.targetColumn}`,
        table: t.target,
        predicate: `${c} IS NULL OR (${known.predicate(c)})`,
        threshold: INFERRED_RULE_THRESHOLD,
      });
    }
  }
  return rules;
}
