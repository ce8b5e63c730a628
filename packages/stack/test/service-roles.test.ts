import { BOOKING_MIGRATIONS, BOOKING_SCHEMA } from '@ticket/booking/service';
import { CHECKOUT_MIGRATIONS, CHECKOUT_SCHEMA } from '@ticket/checkout/service';
import { createServiceTestDatabase, type ServiceTestDatabase } from '@ticket/platform/testing';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What every path that runs the services (make up, make run, the tests, the benchmarks) gives them: one database,
// each service's schema owned by its own role, each service connected as that role. Checked here on booking's
// stock table, the one another service would most like to touch.
let database: ServiceTestDatabase;
const clients: postgres.Sql[] = [];

function connectAs(schema: string): postgres.Sql {
  const client = postgres(database.roleUrl(schema), { max: 1, onnotice: () => {} });
  clients.push(client);
  return client;
}

/** The SQLSTATE a statement fails with, or 'ok'. */
async function outcome(statement: Promise<unknown>): Promise<string> {
  try {
    await statement;
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

beforeAll(async () => {
  database = await createServiceTestDatabase('service_roles', [
    { schema: BOOKING_SCHEMA, migrationsFolder: BOOKING_MIGRATIONS },
    { schema: CHECKOUT_SCHEMA, migrationsFolder: CHECKOUT_MIGRATIONS },
  ]);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.end({ timeout: 5 })));
  await database?.drop();
});

describe("a service's database role", () => {
  const insertStock = (sql: postgres.Sql) =>
    sql`insert into booking.stocks (event_id, ticket_type_id, seats_total)
        values (gen_random_uuid(), gen_random_uuid(), 5)`;

  it("keeps checkout out of booking's stocks: it can neither read nor write them", async () => {
    const checkout = connectAs(CHECKOUT_SCHEMA);
    // 42501: insufficient_privilege (checkout's role has no USAGE on booking's schema).
    expect(await outcome(checkout`select count(*) from booking.stocks`)).toBe('42501');
    expect(await outcome(insertStock(checkout))).toBe('42501');
    expect(await outcome(checkout`update booking.stocks set seats_booked = seats_total`)).toBe('42501');
    expect(await outcome(checkout`select count(*) from checkout.orders`)).toBe('ok');
  });

  it('lets booking read and write its own stocks, and nothing of checkout', async () => {
    const booking = connectAs(BOOKING_SCHEMA);
    expect(await outcome(insertStock(booking))).toBe('ok');
    const [row] = await booking<{ n: number }[]>`select count(*)::int as n from booking.stocks`;
    expect(row?.n).toBe(1);
    expect(await outcome(booking`select count(*) from checkout.orders`)).toBe('42501');
  });
});
