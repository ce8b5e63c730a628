ALTER TABLE "notification"."notifications" DROP CONSTRAINT "notifications_order_kind_key";--> statement-breakpoint
ALTER TABLE "notification"."notifications" DROP CONSTRAINT "notifications_kind_known";--> statement-breakpoint
ALTER TABLE "notification"."notifications" ADD COLUMN "change_key" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "notification"."notifications" ADD CONSTRAINT "notifications_order_change_key" UNIQUE("order_id","kind","change_key");--> statement-breakpoint
ALTER TABLE "notification"."notifications" ADD CONSTRAINT "notifications_kind_known" CHECK ("notification"."notifications"."kind" in ('CREATED', 'PAID', 'CANCELLED', 'EXPIRED', 'FAILED', 'PAYMENT_FAILED', 'REFUNDED', 'LATE_PAYMENT_REFUNDED'));