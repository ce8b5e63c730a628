import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const platformDir = join(import.meta.dirname, '..');
const hooksModule = pathToFileURL(join(platformDir, 'src/module-hooks.ts')).href;

describe('module hooks', () => {
  it("resolves drizzle-orm's modules among themselves without Node's format lookup, and drizzle works as usual", async () => {
    // A hook registered before ours runs after it: it sees what ours passes on to Node's own resolution.
    const source = `
      import { registerHooks } from 'node:module';
      const passedOn = [];
      registerHooks({
        resolve(specifier, context, nextResolve) {
          if (context.parentURL?.includes('/node_modules/drizzle-orm/')) passedOn.push(specifier);
          return nextResolve(specifier, context);
        },
      });
      await import(${JSON.stringify(hooksModule)});
      const { eq, sql } = await import('drizzle-orm');
      const { pgSchema, uuid, integer, PgDialect } = await import('drizzle-orm/pg-core');
      const { drizzle } = await import('drizzle-orm/postgres-js');
      const stocks = pgSchema('booking').table('stocks', { id: uuid('id').primaryKey(), seats: integer('seats') });
      const query = drizzle.mock().select().from(stocks).where(eq(stocks.seats, sql\`\${stocks.seats} + 1\`)).toSQL();
      console.log(JSON.stringify({ query, dialect: typeof PgDialect, passedOn: [...new Set(passedOn)].sort() }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', source], { cwd: platformDir });

    expect(JSON.parse(stdout)).toEqual({
      query: {
        sql: 'select "id", "seats" from "booking"."stocks" where "booking"."stocks"."seats" = "booking"."stocks"."seats" + 1',
        params: [],
      },
      dialect: 'function',
      // Of all the imports inside drizzle-orm's modules, only the bare one of the postgres driver reaches Node's own.
      passedOn: ['postgres'],
    });
  });
});
