// The semantic type and PII class of a column, from its name and the statistics of its sample, confirmed by validators.
import type { LogicalType } from '../../core/catalog.js';
import type { PiiClass } from '../../core/profile.js';
import { nameTokens } from '../planning/identifiers.js';
import { SHARE_CAP, shareOf, type ColumnStats } from './fingerprint.js';
import type { InferredType } from './infer-type.js';
import {
  COUNTRY_ALPHA2,
  COUNTRY_ALPHA3,
  CURRENCY_CODES,
  isEmail,
  isIban,
  isLuhnCardNumber,
  isPhoneNumber,
  isUsSsn,
} from './validators.js';
import { IPV4, IPV6, TIMESTAMP, URL_SHAPE, UUID, dateYear } from './value-shapes.js';

/** The semantic types the classifier can assign. */
export const SEMANTIC_TYPES = [
  'email',
  'phone_number',
  'person_name',
  'given_name',
  'family_name',
  'address_line',
  'city',
  'region',
  'postal_code',
  'country',
  'country_code',
  'currency_code',
  'currency_amount',
  'quantity',
  'date_of_birth',
  'date',
  'timestamp',
  'time',
  'boolean_flag',
  'identifier',
  'foreign_key',
  'url',
  'ip_address',
  'uuid',
  'iban',
  'credit_card',
  'national_id',
  'secret',
  'special_category',
  'username',
  'free_text',
  'code',
  'label',
  'binary',
  'unknown',
] as const;
export type SemanticType = (typeof SEMANTIC_TYPES)[number];

/** PII class of each semantic type; the rest are `none`. */
export const PII_OF: Partial<Record<SemanticType, PiiClass>> = {
  email: 'personal',
  phone_number: 'personal',
  person_name: 'personal',
  given_name: 'personal',
  family_name: 'personal',
  address_line: 'personal',
  postal_code: 'personal',
  ip_address: 'personal',
  date_of_birth: 'sensitive',
  iban: 'sensitive',
  credit_card: 'sensitive',
  national_id: 'sensitive',
  secret: 'sensitive',
  special_category: 'sensitive',
  username: 'personal',
};

/** GDPR article 9 special categories: any column named after one is sensitive, whatever its values. */
const SPECIAL_CATEGORY = /(ethnic|ethnicity|race|racial|religion|religious|belief|political|party_affiliation|health|diagnos|medical|disabilit|sexual|orientation|trade_?union|biometric|genetic)/i;
/** Names of attributes that are personal data about the row's person even when their values are plain codes. */
const PERSONAL_ATTRIBUTE = /^(gender|sex|nationality|marital|marital_status|citizenship)$/;
const USERNAME_WORDS = new Set(['username', 'login', 'handle', 'nickname', 'screen', 'twitter', 'instagram', 'facebook', 'github', 'userid']);

export interface SemanticInput {
  table: string;
  column: string;
  declared: LogicalType;
  inferred: InferredType;
  stats: ColumnStats;
  isPrimaryKey: boolean;
  /** Part of a declared foreign key. */
  isForeignKey: boolean;
}

export interface SemanticResult {
  semanticType: SemanticType;
  confidence: number;
  pii: PiiClass;
  piiConfidence: number;
  /** Why: the evidence, for display (names and shares, never values). */
  evidence: string;
}

// Abbreviations seen in legacy schemas, expanded to the word the rules look for.
const ALIASES: Record<string, string> = {
  fnm: 'first', fname: 'first', forename: 'first', given: 'first', firstname: 'first',
  lnm: 'last', lname: 'last', surname: 'last', family: 'last', lastname: 'last',
  nm: 'name', nme: 'name', fullname: 'name',
  dob: 'birth', bdate: 'birth', birthdate: 'birth', birthday: 'birth', born: 'birth', bday: 'birth',
  addr: 'address', adr: 'address', street: 'address', addr1: 'address', addr2: 'address',
  tel: 'phone', ph: 'phone', phn: 'phone', mobile: 'phone', cell: 'phone', fax: 'phone', telephone: 'phone', phonenumber: 'phone',
  zip: 'postal', zipcode: 'postal', postcode: 'postal', plz: 'postal', postalcode: 'postal', pst: 'postal', pstl: 'postal',
  mail: 'email', emailaddress: 'email', eml: 'email',
  ssn: 'nationalid', sin: 'nationalid', nin: 'nationalid', nino: 'nationalid', taxid: 'nationalid', tin: 'nationalid', passport: 'nationalid',
  cc: 'card', ccn: 'card', pan: 'card', creditcard: 'card',
  uri: 'url', website: 'url', homepage: 'url', link: 'url', web: 'url',
  amt: 'amount', price: 'amount', cost: 'amount', total: 'amount', salary: 'amount', sal: 'amount', fee: 'amount',
  balance: 'amount', payment: 'amount', revenue: 'amount', wage: 'amount', charge: 'amount', income: 'amount', budget: 'amount', advance: 'amount',
  qty: 'quantity', count: 'quantity', cnt: 'quantity', quantity: 'quantity', units: 'quantity', number: 'quantity',
  dt: 'date', day: 'date', ts: 'timestamp', datetime: 'timestamp', created: 'timestamp', updated: 'timestamp', modified: 'timestamp', stamp: 'timestamp',
  flg: 'flag', is: 'flag', has: 'flag', active: 'flag', enabled: 'flag', deleted: 'flag',
  ccy: 'currency', cur: 'currency', curr: 'currency',
  ctry: 'country', cntry: 'country', nation: 'country',
  state: 'region', province: 'region', county: 'region', prov: 'region',
  town: 'city', municipality: 'city', residence: 'city', hometown: 'city', birthplace: 'city',
  middle: 'first', middlename: 'first', minit: 'initial', mi: 'initial', mid: 'initial',
  desc: 'text', description: 'text', comment: 'text', comments: 'text', note: 'text', notes: 'text', remark: 'text', remarks: 'text', notes_: 'text', bio: 'text', summary: 'text',
  no: 'id', num: 'id', nbr: 'id', key: 'id', ref: 'id', identifier: 'id', uuid: 'id', guid: 'id',
  pwd: 'secret', password: 'secret', passwd: 'secret', token: 'secret', pin: 'secret', hash: 'secret',
  ip: 'ip', ipaddr: 'ip', ipaddress: 'ip',
};

/**
 * Column-name words that denote a person by role or relation: a column named so whose values are personal names
 * (capitalised words) holds the person's name, whatever the table is about.
 */
const PERSON_ROLE = new Set([
  'person', 'people', 'father', 'mother', 'parent', 'spouse', 'partner', 'husband', 'wife', 'child', 'son', 'daughter',
  'sibling', 'brother', 'sister', 'guardian', 'composer', 'author', 'writer', 'artist', 'director', 'actor', 'singer',
  'musician', 'painter', 'performer', 'producer', 'editor', 'translator', 'illustrator', 'owner', 'contact', 'recipient',
  'sender', 'beneficiary', 'witness', 'signatory', 'applicant', 'patient', 'student', 'teacher', 'physician', 'doctor',
]);
/** Last name words that qualify the thing named before them (`ADDR_TYP` is a kind of address, not an address). */
const QUALIFIER = new Set(['typ', 'type', 'kind', 'cat', 'category', 'class', 'status', 'stat', 'grp', 'group', 'cnt', 'count', 'len', 'length', 'flag', 'flg']);
/** One personal name or a part of one: capitalised words, particles allowed, no digits. */
const NAME_PART = /^\p{Lu}[\p{L}'’.-]*(\s+(\p{Lu}[\p{L}'’.-]*|de|da|do|dos|del|della|der|di|du|la|le|van|von|bin|al))*$/u;
/** Share of values that are personal names or lists of them (split at `,` `&` `/` `;` ` - ` and the word "and" in a few languages), two capitalised words at least. */
function personalNameShare(stats: ColumnStats): number {
  return shareOf(stats, (t) => {
    const parts = t.split(/\s*(?:[,&/;]|\s-\s|\s(?:and|e|y|et|und)\s)\s*/).filter((x) => x.length > 0);
    return parts.length > 0 && parts.every((x) => NAME_PART.test(x)) && parts.join(' ').split(/\s+/).length >= 2;
  });
}

/** A handle or slug: letters or digits joined by `-`, `_` or `.` into one token. */
const HANDLE = /^[\p{L}\d]+([-_.][\p{L}\d]+)+$/u;

const PERSON_CONTEXT = /(customer|client|employee|emp|person|people|user|member|contact|author|artist|student|patient|staff|worker|owner|manager|agent|player|musician|composer|teacher|account_holder|applicant|subscriber|guest|passenger|driver)/i;

function words(name: string): Set<string> {
  const out = new Set<string>();
  const tokens = nameTokens(name);
  for (const t of tokens) {
    out.add(t);
    const a = ALIASES[t];
    if (a) out.add(a);
  }
  const joined = tokens.join('');
  const a = ALIASES[joined];
  if (a) out.add(a);
  for (const [k, v] of [['firstname', 'first'], ['lastname', 'last'], ['birth', 'birth'], ['zipcode', 'postal'], ['postcode', 'postal'], ['email', 'email'], ['phone', 'phone'], ['address', 'address']] as const) {
    if (joined.includes(k)) out.add(v);
  }
  return out;
}

const TEXTUAL = new Set(['char', 'varchar', 'text', 'unknown']);
const NUMERIC = new Set(['int16', 'int32', 'int64', 'decimal', 'float32', 'float64']);

/** Deterministic classification from names and statistics; validators decide whenever values can confirm a type. */
export function classifySemantic(input: SemanticInput): SemanticResult {
  const r = decide(input);
  const pii = PII_OF[r.semanticType] ?? 'none';
  if (pii === 'none' && nameTokens(input.column).some((t) => PERSONAL_ATTRIBUTE.test(t))) {
    return { ...r, pii: 'personal', piiConfidence: 0.7, evidence: `${r.evidence}; name says a personal attribute` };
  }
  // A column that is not PII by type can still carry PII in free text; we are less sure of "none" there.
  const piiConfidence = pii !== 'none' ? r.confidence : r.semanticType === 'free_text' || r.semanticType === 'unknown' ? 0.6 : Math.max(0.7, r.confidence);
  return { ...r, pii, piiConfidence: round2(piiConfidence) };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function decide(input: SemanticInput): Omit<SemanticResult, 'pii' | 'piiConfidence'> {
  const { stats, inferred, declared } = input;
  const w = words(input.column);
  const tw = words(input.table);
  const kind = inferred.type.kind;
  const texts = stats.nonNull - stats.binary;
  const out = (semanticType: SemanticType, confidence: number, evidence: string) => ({ semanticType, confidence: round2(confidence), evidence });
  if (stats.binary > 0 && texts === 0) return out('binary', 0.9, 'binary values');
  if (texts === 0) return out(input.isPrimaryKey ? 'identifier' : 'unknown', 0.3, 'no non-null values in the sample');

  const share = (test: (t: string) => boolean) => shareOf(stats, test);
  const distinctRatio = stats.distinct.size / texts;
  const named = (...ws: string[]) => ws.some((x) => w.has(x));
  const boost = (base: number, nameAgrees: boolean) => Math.min(0.99, base + (nameAgrees ? 0.08 : 0));
  const isText = TEXTUAL.has(kind);

  // 1. Values a validator can confirm, whatever the name says.
  if (isText || kind === 'int64' || kind === 'decimal') {
    const email = share(isEmail);
    if (email >= 0.9) return out('email', boost(0.9, named('email')), `${pct(email)} valid e-mail addresses (TLD checked)`);
    const card = share(isLuhnCardNumber);
    if (card >= 0.9 && !input.isPrimaryKey) return out('credit_card', boost(0.88, named('card')), `${pct(card)} pass the Luhn check`);
    const iban = share(isIban);
    if (iban >= 0.9) return out('iban', boost(0.9, named('iban', 'account')), `${pct(iban)} pass the IBAN mod-97 check`);
  }
  if (kind === 'uuid') return out(input.isPrimaryKey ? 'identifier' : 'uuid', 0.9, 'UUID values');
  if (isText) {
    if (share(isUsSsn) >= 0.9) return out('national_id', boost(0.8, named('nationalid')), 'SSN shape with valid areas');
    if (share((t) => UUID.test(t)) >= 0.95) return out(input.isPrimaryKey ? 'identifier' : 'uuid', 0.9, 'UUID values');
    if (share((t) => URL_SHAPE.test(t)) >= 0.9) return out('url', boost(0.88, named('url')), 'URL values');
    if (share((t) => IPV4.test(t) || (t.includes(':') && IPV6.test(t))) >= 0.9) return out('ip_address', boost(0.88, named('ip')), 'IP address values');
    const phone = share(isPhoneNumber);
    if (phone >= 0.9 && !named('id', 'postal')) return out('phone_number', boost(0.82, named('phone')), `${pct(phone)} phone-number shape (E.164 or national)`);
  }
  // A name that promises a checksum type whose values fail the checksum is not that type.
  const failedValidator = named('card', 'iban', 'email') ? ' (name suggests a validated type but values fail its check)' : '';

  if (SPECIAL_CATEGORY.test(nameTokens(input.column).join('_'))) return out('special_category', 0.75, 'name says a special category of personal data (GDPR art. 9)');
  if (isText && nameTokens(input.column).some((t) => USERNAME_WORDS.has(t)) && share((t) => !/\s/.test(t.trim())) >= 0.9) {
    return out('username', 0.7, 'name says user name / handle, values are single tokens');
  }

  // 2. Temporal.
  if (kind === 'date' || kind === 'timestamp' || kind === 'timestamptz' || share((t) => dateYear(t) !== null) >= 0.95) {
    if (named('birth')) return out('date_of_birth', 0.9, 'date values, name says birth');
    // Timestamps that are all at midnight hold dates.
    const midnight = share((t) => /^\d{4}-\d{2}-\d{2}([ T]00:00(:00(\.0+)?)?(Z|[+-]00(:?00)?)?)?$/.test(t.trim())) >= 0.99;
    const isTs = !midnight && (kind === 'timestamp' || kind === 'timestamptz' || (kind !== 'date' && share((t) => TIMESTAMP.test(t)) >= 0.95));
    return isTs ? out('timestamp', 0.85, 'timestamp values') : out('date', 0.85, 'date values');
  }
  if (kind === 'time') return out('time', 0.85, 'time-of-day values');

  // Postal codes are text even when the values happen to be all digits.
  if (TEXTUAL.has(declared.kind) && named('postal')) return out('postal_code', 0.85, 'name says postal code');

  // 3. Flags.
  const smallSet = stats.distinct.size <= 2;
  if (kind === 'boolean' || (smallSet && named('flag') && texts > 1)) return out('boolean_flag', boost(0.85, named('flag')), 'two-valued');
  const zeroOne = smallSet && stats.distinct.size === 2 && [...stats.distinct.keys()].every((t) => t === '0' || t === '1');
  if (zeroOne && !input.isPrimaryKey && !named('quantity', 'amount')) return out('boolean_flag', 0.6, 'only 0 and 1');

  // 4. Names of people and places: the name decides, the values must look like words.
  const wordy = share((t) => /^[\p{L}][\p{L}'’ .-]*$/u.test(t.trim())) >= 0.9;
  const tokens = nameTokens(input.column);
  const qualified = tokens.length > 1 && QUALIFIER.has(tokens[tokens.length - 1]!);
  if (isText && !qualified) {
    if (named('initial') && share((t) => /^\p{Lu}\.?$/u.test(t.trim())) >= 0.9) return out('given_name', 0.75, 'name says (middle) initial, values are single capital letters');
    if (named('nationalid')) return out('national_id', 0.7, 'name says national identifier');
    if (named('secret')) return out('secret', 0.75, 'name says password/secret');
    if (wordy && named('first')) return out('given_name', 0.88, 'name says first/given name, values are words');
    if (wordy && named('last')) return out('family_name', 0.88, 'name says last/family name, values are words');
    if (named('email')) return out('email', 0.5, `name says e-mail${failedValidator}`);
    if (named('phone')) return out('phone_number', 0.55, 'name says phone');
    if (named('postal')) return out('postal_code', 0.85, 'name says postal code');
    if (named('address')) return out('address_line', 0.85, 'name says address');
    if (wordy && named('city')) return out('city', 0.85, 'name says city');
    if (named('region')) return out('region', 0.75, 'name says state/region');
    if (named('currency') || share((t) => CURRENCY_CODES.has(t)) >= 0.95) {
      if (share((t) => CURRENCY_CODES.has(t)) >= 0.9) return out('currency_code', 0.9, 'ISO 4217 codes');
    }
    if (named('country') || share((t) => COUNTRY_ALPHA2.has(t) || COUNTRY_ALPHA3.has(t)) >= 0.95) {
      if (share((t) => COUNTRY_ALPHA2.has(t.toUpperCase()) || COUNTRY_ALPHA3.has(t.toUpperCase())) >= 0.9) return out('country_code', boost(0.8, named('country')), 'ISO 3166 country codes');
      if (named('country') && wordy) return out('country', 0.8, 'name says country');
    }
    if (tokens.some((t) => PERSON_ROLE.has(t)) && !named('id')) {
      const names = personalNameShare(stats);
      if (names >= 0.7) return out('person_name', names >= 0.9 ? 0.8 : 0.7, `name says a person by role, ${pct(names)} of values are capitalised multi-word names`);
    }
    const personContext = PERSON_CONTEXT.test(input.table) || PERSON_CONTEXT.test(input.column) || [...tw].some((x) => PERSON_CONTEXT.test(x));
    if (wordy && named('name') && personContext && !named('company', 'title', 'product', 'dept', 'department', 'role', 'job', 'user', 'login', 'file', 'publisher', 'store', 'genre', 'type', 'category', 'album', 'track', 'playlist', 'media', 'pub', 'org', 'firm', 'business')) {
      // Handles are one token, often words joined by - _ . (`snoop-dogg`); names of people have spaces.
      const spaced = share((t) => /\s/.test(t.trim()));
      if (spaced < 0.1 && share((t) => HANDLE.test(t.trim())) >= 0.5) return out('username', 0.65, 'person context, values are single tokens of joined words (handles)');
      const twoWords = share((t) => t.trim().split(/\s+/).length >= 2) >= 0.6;
      return out('person_name', twoWords ? 0.85 : 0.7, 'person context, name says name');
    }
  }

  // 5. Numbers.
  const numeric = NUMERIC.has(kind);
  if (input.isPrimaryKey && distinctRatio >= 0.99) return out('identifier', 0.9, 'primary key');
  if (input.isForeignKey) return out('foreign_key', 0.9, 'declared foreign key');
  const idNamed = named('id') || /(^|_)(id|no|code|key)$/i.test(input.column) || /Id$/.test(input.column);
  if (idNamed && distinctRatio >= 0.9 && texts > 1) return out('identifier', 0.8, 'name says identifier, values nearly unique');
  if (numeric) {
    if (named('amount') || (kind === 'decimal' && declared.scale === 2 && named('amount', 'currency'))) return out('currency_amount', 0.8, 'name says amount/price');
    if (idNamed) return out('identifier', 0.6, 'name says identifier');
    if (kind === 'decimal' && (inferred.type.scale ?? declared.scale) === 2 && share((t) => /\.\d{2}$/.test(t) || /^\d+$/.test(t)) >= 0.9) {
      return out('currency_amount', 0.55, 'decimal with two places');
    }
    if (named('quantity')) return out('quantity', 0.75, 'name says quantity');
    if (!input.isPrimaryKey && stats.distinct.size <= 12 && distinctRatio < 0.1) return out('code', 0.55, 'few distinct numbers');
    return out('quantity', named('quantity') ? 0.75 : 0.5, 'numeric values');
  }

  // 6. Other text.
  let wordSum = 0;
  let lenSum = 0;
  let counted = 0;
  for (const [t, c] of stats.distinct) {
    if (counted >= SHARE_CAP * 10) break;
    wordSum += t.trim().split(/\s+/).length * c;
    lenSum += t.length * c;
    counted += c;
  }
  const per = Math.max(1, counted);
  if (named('text') || wordSum / per >= 5 || lenSum / per >= 60) return out('free_text', named('text') ? 0.8 : 0.65, 'long texts of several words');
  if (idNamed) return out('identifier', 0.6, 'name says identifier/code');
  if (stats.distinct.size <= 50 && distinctRatio <= 0.2 && lenSum / per <= 20) return out('code', 0.65, 'few short distinct values');
  if (distinctRatio >= 0.95 && share((t) => /^[A-Za-z0-9._-]+$/.test(t) && /\d/.test(t)) >= 0.9) return out('identifier', 0.6, 'unique codes');
  if (wordy || share((t) => /\p{L}/u.test(t)) >= 0.9) return out('label', 0.5, `short texts${failedValidator}`);
  return out('unknown', 0.3, `no rule matched${failedValidator}`);
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
