CREATE TABLE "checkout"."cart_items" (
	"user_id" text NOT NULL,
	"ticket_type_id" uuid NOT NULL,
	"event_id" uuid NOT NULL,
	"ticket_type_name" text NOT NULL,
	"unit_price_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"quantity" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cart_items_user_id_ticket_type_id_pk" PRIMARY KEY("user_id","ticket_type_id"),
	CONSTRAINT "cart_items_quantity_positive" CHECK ("checkout"."cart_items"."quantity" > 0),
	CONSTRAINT "cart_items_price_not_negative" CHECK ("checkout"."cart_items"."unit_price_minor" >= 0)
);
--> statement-breakpoint
CREATE TABLE "checkout"."order_items" (
	"order_id" uuid NOT NULL,
	"ticket_type_id" uuid NOT NULL,
	"event_id" uuid NOT NULL,
	"ticket_type_name" text NOT NULL,
	"unit_price_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"quantity" integer NOT NULL,
	"line" integer NOT NULL,
	"booking_id" uuid,
	CONSTRAINT "order_items_order_id_ticket_type_id_pk" PRIMARY KEY("order_id","ticket_type_id"),
	CONSTRAINT "order_items_quantity_positive" CHECK ("checkout"."order_items"."quantity" > 0),
	CONSTRAINT "order_items_price_not_negative" CHECK ("checkout"."order_items"."unit_price_minor" >= 0)
);
--> statement-breakpoint
CREATE TABLE "checkout"."orders" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"email" text NOT NULL,
	"status" text NOT NULL,
	"idempotency_key" text NOT NULL,
	"total_minor" bigint NOT NULL,
	"currency" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"paid_at" timestamp with time zone,
	"payment_reference" text,
	"payment_idempotency_key" text,
	"refund_payment_reference" text,
	"failure_reason" text,
	"failure_kind" text,
	CONSTRAINT "orders_user_idempotency_key" UNIQUE("user_id","idempotency_key"),
	CONSTRAINT "orders_status_known" CHECK ("checkout"."orders"."status" in ('CREATED', 'PAID', 'CANCELLED', 'EXPIRED', 'FAILED')),
	CONSTRAINT "orders_total_not_negative" CHECK ("checkout"."orders"."total_minor" >= 0),
	CONSTRAINT "orders_paid_has_payment" CHECK ("checkout"."orders"."status" <> 'PAID' or "checkout"."orders"."payment_reference" is not null)
);
--> statement-breakpoint
CREATE TABLE "checkout"."payment_attempts" (
	"order_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"payment_reference" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payment_attempts_order_id_idempotency_key_pk" PRIMARY KEY("order_id","idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "checkout"."tickets" (
	"code" text PRIMARY KEY NOT NULL,
	"order_id" uuid NOT NULL,
	"event_id" uuid NOT NULL,
	"ticket_type_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"issued_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "tickets_order_seq_key" UNIQUE("order_id","seq")
);
--> statement-breakpoint
ALTER TABLE "checkout"."order_items" ADD CONSTRAINT "order_items_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "checkout"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "checkout"."payment_attempts" ADD CONSTRAINT "payment_attempts_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "checkout"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "checkout"."tickets" ADD CONSTRAINT "tickets_order_id_orders_id_fk" FOREIGN KEY ("order_id") REFERENCES "checkout"."orders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "orders_user_newest_idx" ON "checkout"."orders" USING btree ("user_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "orders_created_by_expiry_idx" ON "checkout"."orders" USING btree ("expires_at") WHERE "checkout"."orders"."status" = 'CREATED';