CREATE TABLE "event"."events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"location_id" uuid,
	"status" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_fingerprint" text NOT NULL,
	"claim_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "events_idempotency_key" UNIQUE("idempotency_key"),
	CONSTRAINT "events_ends_after_start" CHECK ("event"."events"."ends_at" > "event"."events"."starts_at"),
	CONSTRAINT "events_status_known" CHECK ("event"."events"."status" in ('PENDING', 'ACTIVE', 'ABANDONED'))
);
--> statement-breakpoint
CREATE TABLE "event"."locations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"address" text DEFAULT '' NOT NULL,
	"city" text DEFAULT '' NOT NULL,
	"country_code" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "locations_name_not_empty" CHECK (length("event"."locations"."name") > 0),
	CONSTRAINT "locations_country_code_format" CHECK ("event"."locations"."country_code" ~ '^([A-Z]{2})?$')
);
--> statement-breakpoint
CREATE TABLE "event"."ticket_types" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"event_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"name" text NOT NULL,
	"price_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"seats" integer NOT NULL,
	CONSTRAINT "ticket_types_event_position_key" UNIQUE("event_id","position"),
	CONSTRAINT "ticket_types_price_not_negative" CHECK ("event"."ticket_types"."price_minor" >= 0),
	CONSTRAINT "ticket_types_seats_positive" CHECK ("event"."ticket_types"."seats" > 0),
	CONSTRAINT "ticket_types_currency_format" CHECK ("event"."ticket_types"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
ALTER TABLE "event"."events" ADD CONSTRAINT "events_location_fk" FOREIGN KEY ("location_id") REFERENCES "event"."locations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "event"."ticket_types" ADD CONSTRAINT "ticket_types_event_id_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "event"."events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_active_by_start_idx" ON "event"."events" USING btree ("starts_at","id") WHERE "event"."events"."status" = 'ACTIVE';--> statement-breakpoint
CREATE INDEX "events_active_by_location_idx" ON "event"."events" USING btree ("location_id","starts_at","id") WHERE "event"."events"."status" = 'ACTIVE';--> statement-breakpoint
CREATE INDEX "events_unfinished_by_update_idx" ON "event"."events" USING btree ("updated_at") WHERE "event"."events"."status" <> 'ACTIVE';--> statement-breakpoint
CREATE INDEX "locations_name_id_idx" ON "event"."locations" USING btree ("name","id");--> statement-breakpoint
CREATE UNIQUE INDEX "ticket_types_event_name_key" ON "event"."ticket_types" USING btree ("event_id",lower("name"));