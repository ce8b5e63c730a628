-- Events created before owners were recorded keep organizer_id NULL: nobody's, so only an admin may manage them
-- (the token that created them is not known). Idempotency keys become per organizer.
ALTER TABLE "event"."events" DROP CONSTRAINT "events_idempotency_key";--> statement-breakpoint
ALTER TABLE "event"."events" ADD COLUMN "organizer_id" text;--> statement-breakpoint
ALTER TABLE "event"."events" ADD CONSTRAINT "events_organizer_idempotency_key" UNIQUE("organizer_id","idempotency_key");--> statement-breakpoint
ALTER TABLE "event"."events" ADD CONSTRAINT "events_organizer_id_not_empty" CHECK ("event"."events"."organizer_id" <> '');