-- Export files are kept for a while (GATEWAY_EXPORT_TTL_HOURS, 24 by default), then their chunks are deleted by
-- the housekeeping and the export is `expired`: files of millions of rows should not stay in the database for
-- good. `expires_at` is set when the export finishes.
ALTER TABLE exports ADD COLUMN expires_at timestamptz;
ALTER TABLE exports DROP CONSTRAINT exports_status_check;
ALTER TABLE exports ADD CONSTRAINT exports_status_check
    CHECK (status IN ('pending', 'running', 'finished', 'failed', 'expired'));
CREATE INDEX exports_expiring ON exports (expires_at) WHERE status = 'finished';
