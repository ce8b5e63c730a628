import { createServiceTokenSource } from '@ticket/platform';
import { Metadata } from 'nice-grpc';

/** Well inside the half-life of a service token (60 s), after which the source signs a new one. */
const REFRESH_EVERY_MS = 10_000;

export interface ServiceCredentials {
  /** Call metadata with the current token: the same object until the token changes, never mutated. */
  metadata(): Metadata;
  stop(): void;
}

/**
 * `service`'s token to booking, as booking requires of every call, kept current in the background: a call only
 * takes the current metadata, with no signing and no await of its own, so the load generator stays as cheap as
 * before booking checked callers (its CPU per call is part of what the bench reports).
 */
export async function serviceCredentials(secret: string, service: 'event' | 'checkout'): Promise<ServiceCredentials> {
  const token = createServiceTokenSource({ secret, service, audience: 'booking' });
  const metadataOf = (value: string) => Metadata({ authorization: `Bearer ${value}` });
  let current = metadataOf(await token());
  const timer = setInterval(() => {
    // Signing with a key in memory does not fail; should it, the current token stays until it expires and the
    // calls' UNAUTHENTICATED answers show up among the bench's failures.
    token().then(
      (value) => {
        current = metadataOf(value);
      },
      () => {},
    );
  }, REFRESH_EVERY_MS);
  timer.unref();
  return { metadata: () => current, stop: () => clearInterval(timer) };
}
