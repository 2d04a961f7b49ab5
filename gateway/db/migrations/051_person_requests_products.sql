-- The products an erasure looked in (NULL: every product of the account), so that a token limited to some
-- products follows only the erasures within them: before, it could read any erasure's counts by its UUID. Access
-- requests are followed by the products of their files (their exports). Erasures made before this are followed
-- by whole-account credentials only.
ALTER TABLE person_requests ADD COLUMN products bigint[];
