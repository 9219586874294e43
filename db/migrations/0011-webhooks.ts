// Webhook subscriptions and deliveries, and the events feed (PRODUCT.md §10, DATA.md).
//
// The outbox stays what it was: mutations insert their events in their own transaction and do
// nothing more (no trigger, no NOTIFY — a NOTIFY in a mutation's transaction takes a global lock
// at commit; see the README's "Outbox, dispatcher and jobs"). The dispatcher claims undispatched
// rows (FOR UPDATE SKIP LOCKED), and in the same transaction:
// - gives each one its position in the events feed (`seq`, from outbox_feed_seq, taken under a
//   transaction-scoped lock so positions become visible in increasing order: a reader that saw
//   position N never later finds a smaller one appearing — resuming "after N" loses nothing);
// - lists the organizations that may read it (`outbox_recipients`: one row per organization and
//   position, so an organization's feed is an index range, however many events others get);
// - creates one delivery per matching active subscription and enqueues its job.
// Password-reset events (secrets) are never claimed: they stay for the mailer, never get a
// position, never reach a webhook or the feed.
//
// webhook_deliveries holds one row per attempt: PENDING until the job runs, then SUCCEEDED or
// FAILED (with the receiver's status, a capped body, the error and the duration), and a failed
// attempt with time left in its 24 h window is followed by the next attempt's row. A replay starts
// a new series. At most one attempt of a (subscription, event) is pending at a time.
import { sql, type Kysely } from 'kysely'

export async function up (db: Kysely<any>): Promise<void> {
  await sql`
    CREATE SEQUENCE outbox_feed_seq;
    ALTER TABLE outbox_events ADD COLUMN seq bigint;
    ALTER TABLE outbox_events ADD CONSTRAINT outbox_events_seq_key UNIQUE (seq);
    -- the retention purge walks dispatched events by age
    CREATE INDEX outbox_events_dispatched_at ON outbox_events (dispatched_at) WHERE dispatched_at IS NOT NULL;

    CREATE TABLE outbox_recipients (
      organization_id uuid NOT NULL,
      seq bigint NOT NULL REFERENCES outbox_events (seq) ON DELETE CASCADE,
      PRIMARY KEY (organization_id, seq)
    );
    CREATE INDEX outbox_recipients_seq ON outbox_recipients (seq);

    CREATE TABLE webhook_subscriptions (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations (id),
      url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
      description text CHECK (length(description) <= 500),
      events text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 64),
      -- AES-256-GCM under the webhook secret key (src/domains/webhooks/secrets.ts), never plaintext
      secret_sealed text NOT NULL,
      -- after a rotation, the previous secret keeps signing until it expires
      previous_secret_sealed text,
      previous_secret_expires_at timestamptz,
      is_active boolean NOT NULL DEFAULT true,
      -- first failure since the last success; 24 h of failures disable the subscription
      failing_since timestamptz,
      disabled_at timestamptz,
      disabled_reason text,
      created_by uuid REFERENCES users (id),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      version integer NOT NULL DEFAULT 1,
      CONSTRAINT webhook_subscriptions_previous_secret CHECK ((previous_secret_sealed IS NULL) = (previous_secret_expires_at IS NULL))
    );
    CREATE INDEX webhook_subscriptions_org ON webhook_subscriptions (organization_id, created_at DESC, id DESC);
    CREATE INDEX webhook_subscriptions_list ON webhook_subscriptions (created_at DESC, id DESC);
    CREATE INDEX webhook_subscriptions_created_by ON webhook_subscriptions (created_by);
    -- the dispatcher's match: active subscriptions wanting an event type
    CREATE INDEX webhook_subscriptions_events ON webhook_subscriptions USING gin (events) WHERE is_active;

    CREATE TABLE webhook_deliveries (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
      event_id bigint NOT NULL REFERENCES outbox_events (id) ON DELETE CASCADE,
      attempt integer NOT NULL CHECK (attempt >= 1),
      trigger text NOT NULL CHECK (trigger IN ('EVENT', 'RETRY', 'REPLAY')),
      status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
      -- the first attempt of this series (the event's fan-out or a replay): retries stop 24 h after it
      series_started_at timestamptz NOT NULL,
      scheduled_at timestamptz NOT NULL,
      attempted_at timestamptz,
      duration_ms integer CHECK (duration_ms >= 0),
      response_status integer,
      response_body text CHECK (length(response_body) <= 4096),
      error text CHECK (length(error) <= 500),
      -- on a failed attempt: when the next one is due (null: no retry left)
      next_attempt_at timestamptz,
      delivered_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT webhook_deliveries_attempt_key UNIQUE (subscription_id, event_id, attempt)
    );
    CREATE UNIQUE INDEX webhook_deliveries_one_pending ON webhook_deliveries (subscription_id, event_id) WHERE status = 'PENDING';
    CREATE INDEX webhook_deliveries_list ON webhook_deliveries (subscription_id, id DESC);
    CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE IF EXISTS webhook_deliveries, webhook_subscriptions, outbox_recipients;
    DROP INDEX IF EXISTS outbox_events_dispatched_at;
    ALTER TABLE outbox_events DROP COLUMN IF EXISTS seq;
    DROP SEQUENCE IF EXISTS outbox_feed_seq;
  `.execute(db)
}
