CREATE TABLE "notification"."notifications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"user_id" text NOT NULL,
	"order_id" uuid NOT NULL,
	"source_event_id" text NOT NULL,
	"kind" text NOT NULL,
	"channel" text NOT NULL,
	"status" text NOT NULL,
	"recipient" text NOT NULL,
	"subject" text NOT NULL,
	"body_text" text NOT NULL,
	"body_html" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "notifications_seq_unique" UNIQUE("seq"),
	CONSTRAINT "notifications_order_kind_key" UNIQUE("order_id","kind"),
	CONSTRAINT "notifications_kind_known" CHECK ("notification"."notifications"."kind" in ('CREATED', 'PAID', 'CANCELLED', 'EXPIRED', 'FAILED')),
	CONSTRAINT "notifications_channel_known" CHECK ("notification"."notifications"."channel" in ('EMAIL', 'LOG')),
	CONSTRAINT "notifications_status_known" CHECK ("notification"."notifications"."status" in ('PENDING', 'SENT', 'FAILED', 'SKIPPED')),
	CONSTRAINT "notifications_attempts_not_negative" CHECK ("notification"."notifications"."attempts" >= 0),
	CONSTRAINT "notifications_sent_at_iff_sent" CHECK (("notification"."notifications"."status" = 'SENT') = ("notification"."notifications"."sent_at" is not null))
);
--> statement-breakpoint
CREATE INDEX "notifications_user_newest_idx" ON "notification"."notifications" USING btree ("user_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "notifications_due_idx" ON "notification"."notifications" USING btree ("next_attempt_at","seq") WHERE "notification"."notifications"."status" = 'PENDING';--> statement-breakpoint
CREATE INDEX "notifications_pending_by_order_idx" ON "notification"."notifications" USING btree ("order_id","seq") WHERE "notification"."notifications"."status" = 'PENDING';