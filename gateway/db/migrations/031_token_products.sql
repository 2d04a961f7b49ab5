-- The products a token may use: NULL for every product of its account (what every token could do so far), or
-- the list of them. Permissions themselves stay in `permissions` (text[]), now with finer names beside read,
-- write and admin (gateway/access/principal.py).
ALTER TABLE api_tokens ADD COLUMN product_ids bigint[];
