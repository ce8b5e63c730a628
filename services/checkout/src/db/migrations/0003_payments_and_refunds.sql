CREATE TABLE "checkout"."payments" (
	"provider" text NOT NULL,
	"id" text NOT NULL,
	"order_id" uuid NOT NULL,
	"amount_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"status" text DEFAULT 'CREATED' NOT NULL,
	"client_secret" text DEFAULT '' NOT NULL,
	"pay_url" text DEFAULT '' NOT NULL,
	"failure_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payments_provider_id_pk" PRIMARY KEY("provider","id"),
	CONSTRAINT "payments_status_known" CHECK ("checkout"."payments"."status" in ('CREATED', 'SUCCEEDED', 'FAILED'))
);
--> statement-breakpoint
CREATE TABLE "checkout"."refunds" (
	"id" uuid PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"payment_id" text NOT NULL,
	"amount_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"reason" text NOT NULL,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"idempotency_key" text,
	"ticket_codes" text[] DEFAULT '{}'::text[] NOT NULL,
	"provider_refund_id" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"refunded_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	CONSTRAINT "refunds_order_idempotency_key" UNIQUE("order_id","idempotency_key"),
	CONSTRAINT "refunds_amount_positive" CHECK ("checkout"."refunds"."amount_minor" > 0),
	CONSTRAINT "refunds_reason_known" CHECK ("checkout"."refunds"."reason" in ('REQUESTED', 'LATE_PAYMENT', 'DUPLICATE_PAYMENT')),
	CONSTRAINT "refunds_status_known" CHECK ("checkout"."refunds"."status" in ('PENDING', 'SUCCEEDED')),
	CONSTRAINT "refunds_refunded_at" CHECK (("checkout"."refunds"."status" = 'SUCCEEDED') = ("checkout"."refunds"."refunded_at" is not null))
);
--> statement-breakpoint
CREATE TABLE "checkout"."webhook_events" (
	"provider" text NOT NULL,
	"event_id" text NOT NULL,
	"kind" text NOT NULL,
	"payment_id" text,
	"outcome" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "webhook_events_provider_event_id_pk" PRIMARY KEY("provider","event_id")
);
--> statement-breakpoint
ALTER TABLE "checkout"."orders" DROP CONSTRAINT "orders_status_known";--> statement-breakpoint
ALTER TABLE "checkout"."orders" DROP CONSTRAINT "orders_paid_has_payment";--> statement-breakpoint
ALTER TABLE "checkout"."tickets" ADD COLUMN "refund_id" uuid;--> statement-breakpoint
ALTER TABLE "checkout"."tickets" ADD COLUMN "voided_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "checkout"."payments" ADD CONSTRAINT "payments_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "checkout"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "checkout"."refunds" ADD CONSTRAINT "refunds_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "checkout"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "payments_order_idx" ON "checkout"."payments" USING btree ("order_id");--> statement-breakpoint
CREATE UNIQUE INDEX "refunds_automatic_once" ON "checkout"."refunds" USING btree ("provider","payment_id") WHERE "checkout"."refunds"."reason" <> 'REQUESTED';--> statement-breakpoint
CREATE INDEX "refunds_unfinished_idx" ON "checkout"."refunds" USING btree ("next_attempt_at") WHERE "checkout"."refunds"."completed_at" is null;--> statement-breakpoint
ALTER TABLE "checkout"."orders" ADD CONSTRAINT "orders_status_known" CHECK ("checkout"."orders"."status" in ('CREATED', 'PAID', 'CANCELLED', 'EXPIRED', 'FAILED', 'REFUNDED', 'PARTIALLY_REFUNDED'));--> statement-breakpoint
ALTER TABLE "checkout"."orders" ADD CONSTRAINT "orders_paid_has_payment" CHECK ("checkout"."orders"."status" not in ('PAID', 'REFUNDED', 'PARTIALLY_REFUNDED') or "checkout"."orders"."payment_reference" is not null);--> statement-breakpoint
ALTER TABLE "checkout"."tickets" ADD CONSTRAINT "tickets_voided_by_refund" CHECK ("checkout"."tickets"."voided_at" is null or "checkout"."tickets"."refund_id" is not null);