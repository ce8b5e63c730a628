import type { Money } from '@ticket/contracts/v1/common/money';

/** Digits after the decimal point of a currency (2 for EUR, 0 for JPY), as Intl knows it. */
export function currencyDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** "12.50" in EUR → 1250 minor units; refuses more decimals than the currency has. */
export function parseAmount(text: string, currency: string): number {
  const digits = currencyDigits(currency);
  const match = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match || (match[2]?.length ?? 0) > digits) {
    throw new UsageError(`"${text}" is not an amount of ${currency} (at most ${digits} decimals)`);
  }
  return Number(match[1]) * 10 ** digits + Number((match[2] ?? '').padEnd(digits, '0') || 0);
}

export function formatMoney(money: Money | undefined): string {
  if (!money) return '-';
  const digits = currencyDigits(money.currency);
  return new Intl.NumberFormat('en', { style: 'currency', currency: money.currency }).format(
    money.amountMinor / 10 ** digits,
  );
}

export const formatTime = (time: Date | undefined): string =>
  time
    ? time
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : '-';

/** Enum literal without its prefix: ORDER_STATUS_PAID → PAID. */
export const enumName = (value: string, prefix: string): string => value.replace(prefix, '');

/** A plain aligned table; an empty list says so instead. */
export function table(rows: readonly Record<string, string | number>[], empty = '(none)'): string {
  const [first] = rows;
  if (!first) return empty;
  const columns = Object.keys(first);
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => String(row[column]).length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    line(columns.map((column) => column.toUpperCase())),
    ...rows.map((row) => line(columns.map((column) => String(row[column])))),
  ].join('\n');
}

/** A mistake in the command line itself, reported with the usage. */
export class UsageError extends Error {}
