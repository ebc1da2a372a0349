// Business-meaning descriptions of columns: written by an LLM from the statistical summary, or deterministically without one.
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { z } from 'zod';
import type { ColumnProfile } from '../../core/profile.js';
import { buildDescribeColumnsPrompt, type TableSummary } from '../../prompts/describe-columns.js';
import { createChatModel, llmSettingsFromEnv } from '../llm/chat-model.js';
import { nameTokens } from '../planning/identifiers.js';

export type { ColumnSummary, TableSummary } from '../../prompts/describe-columns.js';

/** The narrow model port: descriptions by column name for one table's summary. */
export interface ColumnDescriber {
  /** `llm` or `deterministic`, for reports. */
  readonly kind: 'llm' | 'deterministic';
  describe(summary: TableSummary): Promise<Record<string, string>>;
}

const PHRASES: Record<string, string> = {
  email: 'e-mail address',
  phone_number: 'telephone number',
  person_name: 'name of a person',
  given_name: 'given (first) name of a person',
  family_name: 'family name of a person',
  address_line: 'postal address line',
  city: 'city or town',
  region: 'state, province or region',
  postal_code: 'postal code',
  country: 'country',
  country_code: 'ISO country code',
  currency_code: 'ISO currency code',
  currency_amount: 'money amount',
  quantity: 'numeric quantity or measure',
  date_of_birth: 'date of birth',
  date: 'calendar date',
  timestamp: 'point in time',
  time: 'time of day',
  boolean_flag: 'yes/no flag',
  identifier: 'identifier',
  foreign_key: 'reference to another record',
  url: 'web address',
  ip_address: 'IP address',
  uuid: 'UUID',
  iban: 'bank account number (IBAN)',
  credit_card: 'payment card number',
  national_id: 'national identification number',
  secret: 'secret (password, token or similar)',
  free_text: 'free-text note',
  code: 'code from a small set of values',
  label: 'short label or title',
  binary: 'binary content',
  unknown: 'value of unrecognised meaning',
};

/** One sentence from the column's name and profile. */
export function describeDeterministically(table: string, column: string, p: Pick<ColumnProfile, 'semanticType' | 'pii' | 'nullRatio' | 'distinctRatio' | 'inferredType' | 'format'>): string {
  const phrase = PHRASES[p.semanticType] ?? p.semanticType.replaceAll('_', ' ');
  const words = nameTokens(column).join(' ');
  const pii = p.pii === 'sensitive' ? '; sensitive personal data' : p.pii === 'personal' ? '; personal data' : '';
  const fmt = p.format ? ` in ${p.format} form` : '';
  const nulls = p.nullRatio > 0 ? `, ${Math.round(p.nullRatio * 100)}% empty` : '';
  return `The ${phrase} "${words}" of each ${nameTokens(table).join(' ')} row (${p.inferredType.kind}${fmt}${nulls})${pii}.`;
}

export function createDeterministicDescriber(): ColumnDescriber {
  return {
    kind: 'deterministic',
    async describe(summary) {
      return Object.fromEntries(
        summary.columns.map((c) => [
          c.name,
          describeDeterministically(summary.table, c.name, {
            semanticType: c.semanticType,
            pii: c.pii as ColumnProfile['pii'],
            nullRatio: c.nullRatio,
            distinctRatio: c.distinctRatio,
            inferredType: { kind: c.inferredType as ColumnProfile['inferredType']['kind'] },
            ...(c.format ? { format: c.format } : {}),
          }),
        ]),
      );
    },
  };
}

export const DescriptionsOutput = z.object({
  columns: z.array(z.object({ name: z.string(), description: z.string().min(1).max(400) })),
});

/**
 * Descriptions written by a chat model (`withStructuredOutput`) from the summary only. Columns the model leaves out,
 * and every column when the call fails, fall back to the deterministic sentence; failures are reported to `onError`.
 */
export function createLlmDescriber(model: BaseChatModel, onError: (e: unknown) => void = () => undefined): ColumnDescriber {
  const fallback = createDeterministicDescriber();
  return {
    kind: 'llm',
    async describe(summary) {
      const base = await fallback.describe(summary);
      try {
        const out = await model.withStructuredOutput(DescriptionsOutput).invoke(buildDescribeColumnsPrompt(summary));
        const parsed = DescriptionsOutput.parse(out);
        for (const c of parsed.columns) if (c.name in base) base[c.name] = c.description.trim();
      } catch (e) {
        onError(e);
      }
      return base;
    },
  };
}

/**
 * The describer the environment configures: the model of `OPENAI_API_KEY` (`OPENAI_BASE_URL`, `SENSEI_MODEL`) with the
 * deterministic sentences as fallback, or the deterministic describer alone without a key.
 */
export function columnDescriberFromEnv(env: NodeJS.ProcessEnv = process.env, onError?: (e: unknown) => void): ColumnDescriber {
  const settings = llmSettingsFromEnv(env);
  return settings ? createLlmDescriber(createChatModel(settings), onError) : createDeterministicDescriber();
}
