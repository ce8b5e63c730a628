import type { Money } from '../domain/order-change.ts';

// Formatting shared by the templates. Every value a template puts into HTML goes through `html`, which escapes it,
// so a ticket type named `<script>` or a failure reason with `&` shows as text and never as markup.

/** HTML that is already safe to insert; only `html` makes one. */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

type HtmlValue = string | number | SafeHtml | readonly SafeHtml[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

/** A tagged template: interpolated strings and numbers are escaped, nested `html` fragments are kept. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let result = strings[0] ?? '';
  values.forEach((value, index) => {
    result += renderHtmlValue(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(result);
}

function renderHtmlValue(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map((fragment) => fragment.value).join('');
  return escapeHtml(String(value));
}

const LOCALE = 'en-GB';
const moneyFormats = new Map<string, Intl.NumberFormat>();

function moneyFormat(currency: string): Intl.NumberFormat {
  let format = moneyFormats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat(LOCALE, { style: 'currency', currency });
    moneyFormats.set(currency, format);
  }
  return format;
}

/**
 * 1050 EUR → "€10.50", 500 JPY → "JP¥500": the minor units become an exact decimal string (never a float division)
 * with as many decimals as the currency has, and Intl formats that string.
 */
export function formatMoney({ amountMinor, currency }: Money): string {
  let format: Intl.NumberFormat;
  try {
    format = moneyFormat(currency);
  } catch {
    return `${amountMinor} ${currency} (minor units)`; // not an ISO 4217 code; checkout validates, so this is a fallback
  }
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(decimalString(amountMinor, digits) as `${number}`);
}

function decimalString(amountMinor: number, digits: number): string {
  const sign = amountMinor < 0 ? '-' : '';
  const units = String(Math.abs(Math.trunc(amountMinor))).padStart(digits + 1, '0');
  if (digits === 0) return `${sign}${units}`;
  return `${sign}${units.slice(0, -digits)}.${units.slice(-digits)}`;
}

export function multiplyMoney(money: Money, quantity: number): Money {
  return { amountMinor: money.amountMinor * quantity, currency: money.currency };
}

const timeFormat = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });

/** "23 Nov 2026, 11:30 UTC": one unambiguous zone for every reader. */
export function formatTime(date: Date): string {
  return `${timeFormat.format(date)} UTC`;
}

/** The order's short reference for subjects and greetings: the first block of its UUID, upper case. */
export function orderReference(orderId: string): string {
  return `#${orderId.split('-')[0]?.toUpperCase() ?? orderId}`;
}

/** A subject is one header line: no line breaks, whatever a value contained. */
export function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').trim();
}

/**
 * The URL when it is an http(s) link, else undefined. A link in an email is followed by people: a `javascript:` or
 * `data:` URL from a compromised or buggy upstream must never become one, whatever the event says.
 */
export function webLink(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return undefined;
  }
  return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
}
