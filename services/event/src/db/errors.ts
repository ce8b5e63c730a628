/** The Postgres error behind a failed query (drizzle wraps the driver's error as `cause`). */
function postgresErrorOf(error: unknown): { code?: string; constraint_name?: string } | undefined {
  for (let current = error; typeof current === 'object' && current !== null; ) {
    const candidate = current as { code?: unknown; cause?: unknown };
    if (typeof candidate.code === 'string') return candidate as { code?: string; constraint_name?: string };
    if (candidate.cause === current) return undefined;
    current = candidate.cause;
  }
  return undefined;
}

/** A foreign key violation (23503) on the named constraint. */
export function isForeignKeyViolation(error: unknown, constraint: string): boolean {
  const cause = postgresErrorOf(error);
  return cause?.code === '23503' && cause.constraint_name === constraint;
}

/** A unique violation (23505) on the named constraint or unique index. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const cause = postgresErrorOf(error);
  return cause?.code === '23505' && cause.constraint_name === constraint;
}
