// Validators that confirm what a shape suggests: Luhn, IBAN mod-97, E.164/phone, e-mail TLD, SSN areas.
import { describe, expect, it } from 'vitest';
import { completeWithLuhn, isE164, isEmail, isIban, isLuhnCardNumber, isPhoneNumber, isUsSsn } from '../../../tools/analysis/validators.js';

describe('validators', () => {
  it('Luhn: accepts card numbers with a correct check digit, refuses one digit off and repeated digits', () => {
    expect(isLuhnCardNumber('4111 1111 1111 1111')).toBe(true);
    expect(isLuhnCardNumber('4111111111111112')).toBe(false);
    expect(isLuhnCardNumber('0000000000000000')).toBe(false);
    expect(isLuhnCardNumber('4111-11')).toBe(false);
    const n = completeWithLuhn('453201511283036');
    expect(isLuhnCardNumber(n)).toBe(true);
    expect(isLuhnCardNumber(n.slice(0, 15) + String((+n[15]! + 1) % 10))).toBe(false);
  });

  it('IBAN: country length and mod-97, spaces allowed', () => {
    expect(isIban('DE89 3704 0044 0532 0130 00')).toBe(true);
    expect(isIban('GB82WEST12345698765432')).toBe(true);
    expect(isIban('DE89370400440532013001')).toBe(false); // check digits no longer match
    expect(isIban('DE8937040044053201300')).toBe(false); // one character short for DE
    expect(isIban('XX89370400440532013000')).toBe(false); // unknown country
  });

  it('phones: E.164 and national forms, not bare short numbers', () => {
    expect(isE164('+49 30 1234567')).toBe(true);
    expect(isE164('+0 30 1234567')).toBe(false);
    expect(isPhoneNumber('(415) 986-7020')).toBe(true);
    expect(isPhoneNumber('030 1234567')).toBe(true);
    expect(isPhoneNumber('1234567')).toBe(false);
    expect(isPhoneNumber('12-34')).toBe(false);
  });

  it('e-mail: shape and a real top-level domain', () => {
    expect(isEmail('a.b@example.com')).toBe(true);
    expect(isEmail('x@corp.de')).toBe(true);
    expect(isEmail('x@host.invalidtld')).toBe(false);
    expect(isEmail('x@host.qq')).toBe(false);
    expect(isEmail('not an email')).toBe(false);
  });

  it('SSN: shape with never-issued areas refused', () => {
    expect(isUsSsn('172-32-1176')).toBe(true);
    expect(isUsSsn('666-32-1176')).toBe(false);
    expect(isUsSsn('912-32-1176')).toBe(false);
    expect(isUsSsn('172321176')).toBe(false);
  });
});
