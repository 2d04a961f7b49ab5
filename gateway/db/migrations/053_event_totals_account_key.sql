-- event_totals (migration 052) is a table added since the rule that every new table's primary key begins with
-- its account (so that a sharding by account, as Citus does it, keeps a product's rows on one shard and the key
-- can hold the distribution column); 052 keyed it on the product first, as the older event_rollups is. The
-- reads name the account and the products, so they use the new key as well as the old one.
ALTER TABLE event_totals DROP CONSTRAINT event_totals_pkey;
ALTER TABLE event_totals ADD PRIMARY KEY (account_id, product_id, grain, bucket);
