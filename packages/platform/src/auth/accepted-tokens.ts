import type { Caller } from './caller.ts';
import type { TokenVerifier } from './tokens.ts';

/**
 * A token one verification accepted, and until when that verdict stands without checking the signature again (its
 * `exp`, or sooner). `undefined` when the verdict must not be reused: a token an identity provider's key signed
 * stops counting once that key is withdrawn, which only a fresh verification notices.
 */
export interface Acceptance {
  caller: Caller;
  reuseUntilMs: number | undefined;
}

export interface AcceptedTokenOptions {
  /** Most tokens remembered; past it the ones remembered first are forgotten. */
  maxTokens?: number;
  now?: () => number;
}

const DEFAULT_MAX_TOKENS = 10_000;

/**
 * Remembers the tokens `verify` accepted, so that the calls a client sends with one token pay for one signature check
 * instead of one each (checked through WebCrypto, that was about a fifth of booking's CPU per hold in a --cpu-prof of
 * make bench-booking). Only acceptances are kept: a refused token is checked again each time, and calls that arrive
 * together with a new token share one check.
 */
export function rememberAcceptedTokens(
  verify: (token: string) => Promise<Acceptance>,
  { maxTokens = DEFAULT_MAX_TOKENS, now = Date.now }: AcceptedTokenOptions = {},
): TokenVerifier {
  const accepted = new Map<string, { caller: Caller; untilMs: number }>();
  const verifying = new Map<string, Promise<Caller>>();

  function remember(token: string, caller: Caller, untilMs: number): void {
    if (accepted.size >= maxTokens) forgetExpired();
    if (accepted.size >= maxTokens) accepted.delete(accepted.keys().next().value as string);
    accepted.set(token, { caller, untilMs });
  }

  function forgetExpired(): void {
    const at = now();
    for (const [token, { untilMs }] of accepted) if (untilMs <= at) accepted.delete(token);
  }

  async function verifyAndRemember(token: string): Promise<Caller> {
    try {
      const { caller, reuseUntilMs } = await verify(token);
      if (reuseUntilMs !== undefined && reuseUntilMs > now()) remember(token, caller, reuseUntilMs);
      return caller;
    } finally {
      verifying.delete(token);
    }
  }

  return (token) => {
    const known = accepted.get(token);
    if (known !== undefined) {
      if (known.untilMs > now()) return Promise.resolve(known.caller);
      accepted.delete(token);
    }
    let pending = verifying.get(token);
    if (pending === undefined) {
      pending = verifyAndRemember(token);
      verifying.set(token, pending);
    }
    return pending;
  };
}
