import { z } from 'zod';

// Reusable field schemas. Proto3 sends an unset string as '' and an unset number as 0, so "required" checks are
// "not empty" / "positive" here; only message fields (Money, Timestamp) arrive as undefined.

/** A UUID (any version), normalised to lower case so it compares equal to what Postgres returns. */
export const uuid = () => z.uuid({ error: 'must be a UUID' }).transform((id) => id.toLowerCase());

// Postgres text cannot hold U+0000: refused as the caller's mistake before it becomes a database error.
const withoutNul = (text: string) => !text.includes('\u0000');
const NUL_ERROR = { error: 'must not contain NUL characters' };

// Protobuf decoding replaces bytes that are not valid UTF-8 with U+FFFD, so the text is no longer what was sent;
// a decoded string cannot tell a replaced byte from a sent U+FFFD, so every U+FFFD is refused.
const withoutReplacementCharacter = (text: string) => !text.includes('\uFFFD');
const UTF8_ERROR = { error: 'must be valid UTF-8 without U+FFFD replacement characters' };

/** Trimmed; empty after trimming is rejected. */
export const nonEmptyString = (maxLength: number) =>
  z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(maxLength, { error: `must be at most ${maxLength} characters` })
    .refine(withoutNul, NUL_ERROR)
    .refine(withoutReplacementCharacter, UTF8_ERROR);

/** Optional free text (a description, an address): trimmed, '' when unset. */
export const optionalText = (maxLength: number) =>
  z
    .string()
    .trim()
    .max(maxLength, { error: `must be at most ${maxLength} characters` })
    .refine(withoutNul, NUL_ERROR)
    .refine(withoutReplacementCharacter, UTF8_ERROR);

const INT32_MAX = 2_147_483_647;

export const positiveInt32 = () =>
  z
    .number()
    .int({ error: 'must be an integer' })
    .min(1, { error: 'must be positive' })
    .max(INT32_MAX, { error: `must be at most ${INT32_MAX}` });

const currencies: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/** An ISO 4217 code in use ("EUR"), checked against the list Node's ICU knows; lower case is rejected, not fixed. */
export const currencyCode = () =>
  z.string().refine((code) => /^[A-Z]{3}$/.test(code) && currencies.has(code), {
    error: 'must be an ISO 4217 currency code in upper case, e.g. EUR',
  });

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
// ICU also names groupings and reserved codes that are no country: unknown, EU, eurozone, UN, outlying Oceania,
// and the exceptionally reserved AC, CP, DG, EA, IC, TA. (XK, Kosovo, stays: user-assigned but in common use.)
const notCountries: ReadonlySet<string> = new Set(['ZZ', 'EU', 'EZ', 'UN', 'QO', 'AC', 'CP', 'DG', 'EA', 'IC', 'TA']);

/** An ISO 3166-1 alpha-2 country code ("DE"), upper case, known to ICU. */
export const countryCode = () =>
  z
    .string()
    .refine((code) => /^[A-Z]{2}$/.test(code) && !notCountries.has(code) && regionNames.of(code) !== undefined, {
      error: 'must be an ISO 3166-1 alpha-2 country code in upper case, e.g. DE',
    });

/** An amount in minor units (cents) that a JS number holds exactly (int64 fields are generated as numbers). */
export const minorUnits = () =>
  z
    .number()
    .int({ error: 'must be a whole number of minor units' })
    .min(0, { error: 'must not be negative' })
    .max(Number.MAX_SAFE_INTEGER, { error: 'is too large' });

/** A `ticket.common.v1.Money` message: required, non-negative, known currency. */
export const money = () => z.object({ amountMinor: minorUnits(), currency: currencyCode() });

/**
 * A page size: 0 (unset) means `fallback`; above `max` is lowered to `max` (AIP-158), negative is rejected.
 */
export const pageSize = ({ fallback, max }: { fallback: number; max: number }) =>
  z
    .number()
    .int({ error: 'must be an integer' })
    .min(0, { error: 'must not be negative' })
    .transform((size) => (size === 0 ? fallback : Math.min(size, max)));

/** Client-chosen key that makes a mutation safe to repeat: 1-128 printable ASCII characters, no spaces. */
export const idempotencyKey = () =>
  z
    .string()
    .min(1, { error: 'is required' })
    .max(128, { error: 'must be at most 128 characters' })
    .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' });
