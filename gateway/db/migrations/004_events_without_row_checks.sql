-- Event rows are the hot path of ingestion: each foreign key costs a trigger query per inserted row.
-- The ingestion engine creates (and locks) a row's device and session in the same transaction before it
-- writes the event, and moves events itself when it merges devices, so only the product key is kept: it
-- still deletes a product's (and so an account's) events with it.
ALTER TABLE events DROP CONSTRAINT events_device_id_fkey;
ALTER TABLE events DROP CONSTRAINT events_session_id_fkey;
