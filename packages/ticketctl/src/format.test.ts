import { describe, expect, it } from 'vitest';
import { formatMoney, parseAmount, table, UsageError } from './format.ts';

describe('money', () => {
  it('parses amounts into minor units by the currency', () => {
    expect(parseAmount('12.5', 'EUR')).toBe(1250);
    expect(parseAmount('12', 'EUR')).toBe(1200);
    expect(parseAmount('0.07', 'USD')).toBe(7);
    expect(parseAmount('1500', 'JPY')).toBe(1500);
  });

  it('refuses what is not an amount of the currency', () => {
    expect(() => parseAmount('12.345', 'EUR')).toThrow(UsageError);
    expect(() => parseAmount('1.5', 'JPY')).toThrow(UsageError);
    expect(() => parseAmount('-3', 'EUR')).toThrow(UsageError);
    expect(() => parseAmount('ten', 'EUR')).toThrow(UsageError);
  });

  it('formats minor units back', () => {
    expect(formatMoney({ amountMinor: 1250, currency: 'EUR' })).toBe('€12.50');
    expect(formatMoney({ amountMinor: 1500, currency: 'JPY' })).toBe('¥1,500');
  });
});

describe('table', () => {
  it('aligns columns under upper-case headers', () => {
    expect(
      table([
        { name: 'General', seats: 100 },
        { name: 'VIP', seats: 5 },
      ]),
    ).toBe(['NAME     SEATS', 'General  100', 'VIP      5'].join('\n'));
    expect(table([])).toBe('(none)');
  });
});
