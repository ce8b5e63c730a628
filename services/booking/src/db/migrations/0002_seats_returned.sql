CREATE TABLE "booking"."seat_returns" (
	"order_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_fingerprint" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "seat_returns_pkey" PRIMARY KEY("order_id","idempotency_key")
);
--> statement-breakpoint
ALTER TABLE "booking"."bookings" ADD COLUMN "seats_returned" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "booking"."bookings" ADD CONSTRAINT "bookings_seats_returned_within_seats" CHECK ("booking"."bookings"."seats_returned" between 0 and "booking"."bookings"."seats");--> statement-breakpoint
ALTER TABLE "booking"."bookings" ADD CONSTRAINT "bookings_returns_only_sold" CHECK ("booking"."bookings"."status" = 'SOLD' or "booking"."bookings"."seats_returned" = 0);