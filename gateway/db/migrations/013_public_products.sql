-- A product whose analytics may be read with its app key alone (Countly's old readers send only `app_key`;
-- GoatCounter's "public" sites): off by default, since app keys ship inside apps and web pages.
ALTER TABLE products ADD COLUMN IF NOT EXISTS public boolean NOT NULL DEFAULT false;
