CREATE TABLE "booking"."bookings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"stock_id" uuid NOT NULL,
	"order_id" uuid NOT NULL,
	"user_id" text NOT NULL,
	"seats" integer NOT NULL,
	"status" text DEFAULT 'HELD' NOT NULL,
	"idempotency_key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	CONSTRAINT "bookings_order_stock_key" UNIQUE("order_id","stock_id"),
	CONSTRAINT "bookings_idempotency_key" UNIQUE("idempotency_key"),
	CONSTRAINT "bookings_seats_positive" CHECK ("booking"."bookings"."seats" > 0),
	CONSTRAINT "bookings_status_known" CHECK ("booking"."bookings"."status" in ('HELD', 'SOLD', 'RELEASED', 'EXPIRED'))
);
--> statement-breakpoint
CREATE TABLE "booking"."stocks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"event_id" uuid NOT NULL,
	"ticket_type_id" uuid NOT NULL,
	"seats_total" integer NOT NULL,
	"seats_booked" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stocks_event_ticket_type_key" UNIQUE("event_id","ticket_type_id"),
	CONSTRAINT "stocks_seats_total_positive" CHECK ("booking"."stocks"."seats_total" > 0),
	CONSTRAINT "stocks_seats_booked_within_total" CHECK ("booking"."stocks"."seats_booked" between 0 and "booking"."stocks"."seats_total")
);
--> statement-breakpoint
ALTER TABLE "booking"."bookings" ADD CONSTRAINT "bookings_stock_id_stocks_id_fk" FOREIGN KEY ("stock_id") REFERENCES "booking"."stocks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bookings_live_by_expiry_idx" ON "booking"."bookings" USING btree ("expires_at") WHERE "booking"."bookings"."status" = 'HELD';--> statement-breakpoint
CREATE INDEX "bookings_live_by_stock_idx" ON "booking"."bookings" USING btree ("stock_id","expires_at") WHERE "booking"."bookings"."status" = 'HELD';