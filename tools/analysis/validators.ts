// Checksums and reference lists that confirm what a value's shape only suggests (as Presidio does): Luhn, IBAN mod-97, E.164, e-mail TLDs.

/** Luhn checksum over the digits of `text` (spaces and dashes allowed), 13–19 digits as payment cards have. */
export function isLuhnCardNumber(text: string): boolean {
  const digits = text.replace(/[\s-]/g, '');
  if (!/^\d{13,19}$/.test(digits) || /^(\d)\1+$/.test(digits)) return false;
  return isLuhnDigits(digits);
}

function isLuhnDigits(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** `prefix` followed by the one digit that makes it pass the Luhn check (for generating test data). */
export function completeWithLuhn(prefix: string): string {
  for (let d = 0; d <= 9; d++) if (isLuhnDigits(prefix + d)) return prefix + d;
  return `${prefix}0`;
}

const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22,
  DK: 18, DO: 28, EE: 20, ES: 24, FI: 18, FO: 18, FR: 27, GB: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28,
  IE: 22, IL: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24,
  ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22,
  SA: 24, SE: 24, SI: 19, SK: 24, SM: 27, TN: 24, TR: 26, UA: 29, VG: 24, XK: 20,
};

/** ISO 13616 IBAN: known country, its length, and the mod-97 check (spaces allowed). */
export function isIban(text: string): boolean {
  const s = text.replace(/\s/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(s) || IBAN_LENGTHS[s.slice(0, 2)] !== s.length) return false;
  const moved = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const code = ch.charCodeAt(0);
    const part = code >= 65 ? String(code - 55) : ch;
    for (const d of part) rem = (rem * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

/** E.164: `+` and 8–15 digits, first digit not 0 (separators allowed in the text). */
export function isE164(text: string): boolean {
  const s = text.replace(/[\s().-]/g, '');
  return /^\+[1-9]\d{7,14}$/.test(s);
}

/** A national-format phone number: 7–15 digits with at least one separator or a leading `+`/`0`/parenthesis. */
export function isPhoneNumber(text: string): boolean {
  if (isE164(text)) return true;
  const t = text.trim();
  if (!/^[\d\s().\-/+]+$/.test(t)) return false;
  const digits = t.replace(/\D/g, '').length;
  if (digits < 7 || digits > 15) return false;
  return /[\s().\-/]/.test(t) || /^0\d/.test(t);
}

/** ISO 3166-1 alpha-2 country codes (officially assigned), also the country-code TLDs. */
export const COUNTRY_ALPHA2 = new Set(
  ('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC ' +
    'CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD ' +
    'GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH ' +
    'KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW ' +
    'MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC ' +
    'SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY ' +
    'UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW UK EU').split(' '),
);

/** ISO 3166-1 alpha-3 codes of the most common countries (enough to recognise a column of them). */
export const COUNTRY_ALPHA3 = new Set(
  ('USA GBR DEU FRA ITA ESP PRT NLD BEL CHE AUT SWE NOR DNK FIN IRL POL CZE HUN ROU BGR GRC TUR RUS UKR CAN MEX BRA ARG ' +
    'CHL COL PER VEN AUS NZL JPN CHN KOR IND IDN PAK BGD THA VNM PHL MYS SGP ZAF EGY NGA KEN MAR DZA TUN ISR SAU ARE IRN ' +
    'IRQ LUX ISL EST LVA LTU SVK SVN HRV SRB').split(' '),
);

/** ISO 4217 currency codes in common use. */
export const CURRENCY_CODES = new Set(
  ('AED ARS AUD BGN BHD BRL CAD CHF CLP CNY COP CZK DKK EGP EUR GBP HKD HUF IDR ILS INR ISK JPY KES KRW KWD MAD MXN MYR ' +
    'NGN NOK NZD PEN PHP PKR PLN QAR RON RSD RUB SAR SEK SGD THB TRY TWD UAH USD VND XAF XOF ZAR').split(' '),
);

const GENERIC_TLDS = new Set(
  'com org net edu gov mil int info biz name pro aero coop museum mobi asia tel travel jobs cat io ai app dev co me tv cloud online shop site tech xyz email local example test'.split(' '),
);

/** E-mail shape with a real top-level domain (generic, country code, or the RFC 2606 reserved `example`/`test`). */
export function isEmail(text: string): boolean {
  const m = /^[A-Za-z0-9._%+'-]+@([A-Za-z0-9-]+\.)+([A-Za-z]{2,})$/.exec(text.trim());
  if (!m) return false;
  const tld = m[2]!.toLowerCase();
  return GENERIC_TLDS.has(tld) || (tld.length === 2 && COUNTRY_ALPHA2.has(tld.toUpperCase()));
}

/** US Social Security number shape with the never-issued areas excluded (000, 666, 900–999), dashes required. */
export function isUsSsn(text: string): boolean {
  const m = /^(\d{3})-(\d{2})-(\d{4})$/.exec(text.trim());
  if (!m) return false;
  const area = +m[1]!;
  return area !== 0 && area !== 666 && area < 900 && m[2] !== '00' && m[3] !== '0000';
}
