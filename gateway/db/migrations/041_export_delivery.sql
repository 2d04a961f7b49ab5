-- Exports of any list, in any of its fields, as CSV, JSON or Excel 97 (XLS), delivered by download link or e-mail.
--
--   fields        the columns of the file, in order: [[graph field, header], ...] (NULL: the kind's fixed columns
--                 of the first exports); a null field is an empty column
--   filter        what the list holds: the kind's filter input as JSON (events: names, devices, sessions,
--                 segments; sessions: devices; devices: segment, ...), read back by resolvers/exports/sources.py
--   product_ids   kinds over several products (per-day figures): every product exported; product_id is the first
--   link_hash     SHA-256 of the download token that opens the file without credentials, until link_expires_at
--                 (7 days); the token itself is shown once, in the reply that started the export
--   email_to      where the worker mails the link once the file is written; emailed_at / email_error tell how
--                 it went; email_token is the download token to put in that e-mail, kept only until it is sent
ALTER TABLE exports
    ADD COLUMN fields          jsonb,
    ADD COLUMN filter          jsonb,
    ADD COLUMN product_ids     bigint[],
    ADD COLUMN link_hash       bytea,
    ADD COLUMN link_expires_at timestamptz,
    ADD COLUMN email_to        text,
    ADD COLUMN email_token     text,
    ADD COLUMN emailed_at      timestamptz,
    ADD COLUMN email_error     text;
CREATE UNIQUE INDEX exports_link ON exports (link_hash) WHERE link_hash IS NOT NULL;
