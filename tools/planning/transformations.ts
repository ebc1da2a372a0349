// Transformation expressions and validation rules for one column: staged text in, a typed target value out.
import type { LogicalType } from '../../core/catalog.js';
import type { ValidationRule } from '../../core/plan.js';
import { nameTokens, quoteIdent, quoteLiteral } from './identifiers.js';
import type { ValueFormat } from './matching/value-evidence.js';
import { pgTypeInfo } from './pg-types.js';

/**
 * Staged values are text (COPY text format), so every transformation is a cast from text to the target type, and
 * every rule guards a cast that would otherwise fail the whole batch or, worse, change the value silently
 * (varchar(n) truncation, numeric rounding).
 */
export interface ColumnTransform {
  transformation: string;
  validationRules: ValidationRule[];
}

const INT_RE = '^\\s*[-+]?[0-9]+\\s*$';
const NUM_RE = '^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$';
const FLOAT_RE = '^\\s*([-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?|NaN|[-+]?Infinity)\\s*$';
// Years beyond 9999, BC dates and ±infinity are valid PostgreSQL values and must pass.
const DATE_RE = '^\\s*([0-9]{4,}-[0-9]{2}-[0-9]{2}( BC)?|[-+]?infinity)\\s*$';
const TS_RE = '^\\s*([0-9]{4,}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?)?\\s*([-+][0-9]{2}(:?[0-9]{2})?|Z)?( BC)?|[-+]?infinity)\\s*$';
const BOOL_WORDS = "('t','f','true','false','1','0','y','n','yes','no','on','off')";

const DATE_FORMAT_RE: Record<Extract<ValueFormat, { kind: 'date' }>['format'], string> = {
  YYYYMMDD: '^\\s*[0-9]{8}\\s*$',
  'YYYY-MM-DD': '^\\s*[0-9]{4}-[0-9]{2}-[0-9]{2}\\s*$',
  'DD/MM/YYYY': '^\\s*[0-9]{2}/[0-9]{2}/[0-9]{4}\\s*$',
  'MM/DD/YYYY': '^\\s*[0-9]{2}/[0-9]{2}/[0-9]{4}\\s*$',
  'DD.MM.YYYY': '^\\s*[0-9]{2}\\.[0-9]{2}\\.[0-9]{4}\\s*$',
};

const MINOR_UNIT_WORDS = new Set(['cents', 'cent', 'pence', 'penny', 'minor', 'kobo', 'paise']);

function isMinorUnits(column: string, type: LogicalType): boolean {
  return ['int16', 'int32', 'int64'].includes(type.kind) && nameTokens(column).some((w) => MINOR_UNIT_WORDS.has(w));
}

/**
 * The predicates of the rules this module writes, as templates over the column reference `v`. One place for them, so
 * that `recogniseRule` can tell a rule written here (and left unchanged by a stakeholder or a model) from any other.
 */
const PREDICATE = {
  notNull: (v: string) => `${v} IS NOT NULL`,
  guard: (v: string, test: string) => `(${v} IS NULL OR (${test}))`,
  integerRange: (v: string, min: string, max: string) => `CASE WHEN ${v} ~ '${INT_RE}' THEN CAST(${v} AS numeric) BETWEEN ${min} AND ${max} ELSE false END`,
  numericRange: (v: string, integerDigits: string, scale: string) =>
    `CASE WHEN ${v} ~ '${NUM_RE}' THEN abs(CAST(${v} AS numeric)) < 1e${integerDigits} AND CAST(${v} AS numeric) = round(CAST(${v} AS numeric), ${scale}) ELSE false END`,
  maxLength: (v: string, chars: string) => `char_length(${v}) <= ${chars}`,
  dateFormat: (v: string) => `${v} ~ '${DATE_RE}'`,
  timestampFormat: (v: string) => `${v} ~ '${TS_RE}'`,
  floatFormat: (v: string) => `${v} ~ '${FLOAT_RE}'`,
  booleanWords: (v: string) => `lower(${v}) IN ${BOOL_WORDS}`,
};

/** A rule written by `columnTransform`, recognised from its predicate, with its parameters. */
export type KnownRule =
  | { kind: 'not_null' }
  | { kind: 'max_length'; chars: number; trimmed: boolean }
  | { kind: 'integer_range'; min: bigint; max: bigint }
  | { kind: 'numeric_range'; integerDigits: number; scale: number }
  | { kind: 'date_format' }
  | { kind: 'timestamp_format' }
  | { kind: 'float_format' }
  | { kind: 'boolean_words' }
  /** `unique` / `fk` (predicate `true`): enforced by the target's constraints. */
  | { kind: 'key' };

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A regex matching `template(…markers)` exactly, each marker captured as an integer. */
function templateRegExp(text: string, markers: string[]): RegExp {
  let re = escapeRegExp(text);
  for (const m of markers) re = re.replace(m, '(-?[0-9]+)');
  return new RegExp(`^${re}$`);
}

/**
 * The rule over source column `sourceColumn` whose predicate is exactly one `columnTransform` writes, or null (an
 * edited, model-written or business rule). What recognises a rule here is the same template that wrote it.
 */
export function recogniseRule(sourceColumn: string, predicate: string): KnownRule | null {
  const v = `src.${quoteIdent(sourceColumn)}`;
  if (/^\s*true\s*$/i.test(predicate)) return { kind: 'key' };
  if (predicate === PREDICATE.notNull(v)) return { kind: 'not_null' };
  const guarded = (test: string): string => PREDICATE.guard(v, test);
  const fixed: Array<[string, KnownRule]> = [
    [guarded(PREDICATE.dateFormat(v)), { kind: 'date_format' }],
    [guarded(PREDICATE.timestampFormat(v)), { kind: 'timestamp_format' }],
    [guarded(PREDICATE.floatFormat(v)), { kind: 'float_format' }],
    [guarded(PREDICATE.booleanWords(v)), { kind: 'boolean_words' }],
  ];
  for (const [text, rule] of fixed) if (predicate === text) return rule;
  const A = '\u0001';
  const B = '\u0002';
  let m = templateRegExp(guarded(PREDICATE.integerRange(v, A, B)), [A, B]).exec(predicate);
  if (m) return { kind: 'integer_range', min: BigInt(m[1]!), max: BigInt(m[2]!) };
  m = templateRegExp(guarded(PREDICATE.numericRange(v, A, B)), [A, B]).exec(predicate);
  if (m) return { kind: 'numeric_range', integerDigits: Number(m[1]), scale: Number(m[2]) };
  m = templateRegExp(guarded(PREDICATE.maxLength(v, A)), [A]).exec(predicate);
  if (m) return { kind: 'max_length', chars: Number(m[1]), trimmed: false };
  m = templateRegExp(guarded(PREDICATE.maxLength(`rtrim(${v})`, A)), [A]).exec(predicate);
  if (m) return { kind: 'max_length', chars: Number(m[1]), trimmed: true };
  return null;
}

export function columnTransform(options: {
  sourceColumn: string;
  sourceType: LogicalType;
  targetColumn: string;
  targetType: string;
  targetNullable: boolean;
  /** The text format the source values were found in (dates as text, flags), when it needs more than a cast. */
  sourceFormat?: ValueFormat;
  /** Source code → target code, translated through a literal CASE. */
  codes?: ReadonlyMap<string, string>;
}): ColumnTransform {
  const v = `src.${quoteIdent(options.sourceColumn)}`;
  const info = pgTypeInfo(options.targetType);
  const rules: ValidationRule[] = [];
  const where = `${options.sourceColumn} → ${options.targetColumn} (${options.targetType})`;
  if (!options.targetNullable) {
    rules.push({
      rule: 'not_null',
      predicate: PREDICATE.notNull(v),
      message: `NULL in ${where}, which is NOT NULL: fix the source row or map a default`,
    });
  }
  const guard = (rule: string, test: string, message: string): void => {
    rules.push({ rule, predicate: PREDICATE.guard(v, test), message: `${message} in ${where}` });
  };
  let transformation = `CAST(${v} AS ${options.targetType})`;
  const format = options.sourceFormat;

  if (options.codes && options.codes.size > 0) {
    const whens = [...options.codes].map(([from, to]) => `WHEN ${quoteLiteral(from)} THEN ${quoteLiteral(to)}`).join(' ');
    transformation = `CAST(CASE btrim(${v}) ${whens} END AS ${options.targetType})`;
    guard('code_translation', `btrim(${v}) IN (${[...options.codes.keys()].map(quoteLiteral).join(', ')})`, 'a code the translation does not know');
    return { transformation, validationRules: rules };
  }
  // ISO dates need no more than the cast (and its date_format rule below).
  if (format?.kind === 'date' && format.format !== 'YYYY-MM-DD' && (info.family === 'date' || info.family === 'timestamp')) {
    const shape = DATE_FORMAT_RE[format.format];
    transformation = `CAST(to_date(btrim(${v}), ${quoteLiteral(format.format)}) AS ${options.targetType})`;
    guard('date_format', `${v} ~ '${shape}'`, `not a date in ${format.format} form`);
    return { transformation, validationRules: rules };
  }
  if (format?.kind === 'flag' && info.family === 'bool') {
    const t = quoteLiteral(format.trueValue.toUpperCase());
    const f = quoteLiteral(format.falseValue.toUpperCase());
    transformation = `CASE upper(btrim(${v})) WHEN ${t} THEN true WHEN ${f} THEN false END`;
    guard('boolean_format', `upper(btrim(${v})) IN (${t}, ${f})`, `not ${format.format}`);
    return { transformation, validationRules: rules };
  }
  if (info.family === 'numeric' && isMinorUnits(options.sourceColumn, options.sourceType) && (info.scale ?? 0) >= 2) {
    // Evidence: an integer column whose name says it counts minor units (cents, pence) into a decimal target.
    transformation = `CAST(CAST(${v} AS numeric) / 100 AS ${options.targetType})`;
    guard('integer_format', `${v} ~ '${INT_RE}'`, 'not a whole number of minor units');
    return { transformation, validationRules: rules };
  }
  if (info.family === 'text' && options.sourceType.kind === 'char') {
    // CHAR(n) pads with blanks; the padding is not part of the value.
    transformation = info.length !== undefined ? `CAST(rtrim(${v}) AS ${options.targetType})` : `rtrim(${v})`;
    if (info.length !== undefined) guard('max_length', PREDICATE.maxLength(`rtrim(${v})`, String(info.length)), `longer than ${info.length} characters (would be truncated)`);
    return { transformation, validationRules: rules };
  }

  switch (info.family) {
    case 'int':
      if (options.sourceType.kind === 'boolean') {
        transformation = `CAST(CAST(${v} AS boolean) AS ${options.targetType})`;
        guard('boolean_format', PREDICATE.booleanWords(v), 'not a boolean');
        break;
      }
      // CASE fixes the evaluation order: the range cast runs only on values that passed the format check.
      guard(
        'integer_range',
        PREDICATE.integerRange(v, String(info.min), String(info.max)),
        `not an integer within ${options.targetType} range`,
      );
      break;
    case 'numeric':
      if (info.precision !== undefined) {
        const scale = info.scale ?? 0;
        guard(
          'numeric_range',
          PREDICATE.numericRange(v, String(info.precision - scale), String(scale)),
          `not a number that fits ${options.targetType} without rounding`,
        );
      } else {
        guard('numeric_format', `${v} ~ '${NUM_RE}' OR ${v} IN ('NaN')`, 'not a number');
      }
      break;
    case 'float':
      guard('float_format', PREDICATE.floatFormat(v), 'not a floating-point number');
      break;
    case 'bool':
      if (['int16', 'int32', 'int64', 'decimal'].includes(options.sourceType.kind)) {
        transformation = `(CAST(${v} AS numeric) <> 0)`;
        guard('boolean_format', `${v} ~ '${NUM_RE}'`, 'not a 0/1 flag');
      } else {
        guard('boolean_format', PREDICATE.booleanWords(v), 'not a boolean');
      }
      break;
    case 'text':
      transformation = info.length !== undefined ? `CAST(${v} AS ${options.targetType})` : v;
      if (info.length !== undefined) {
        guard('max_length', PREDICATE.maxLength(v, String(info.length)), `longer than ${info.length} characters (would be truncated)`);
      }
      break;
    case 'date':
      guard('date_format', PREDICATE.dateFormat(v), 'not a date in YYYY-MM-DD form');
      break;
    case 'timestamp':
      guard('timestamp_format', PREDICATE.timestampFormat(v), 'not a timestamp in ISO form');
      break;
    default:
      break;
  }
  return { transformation, validationRules: rules };
}
