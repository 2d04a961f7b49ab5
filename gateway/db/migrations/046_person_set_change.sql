-- A change of a set-valued property (FollowAnalytics' ADD / REMOVE of attribute values, the graph's
-- `updatePersonProperties` with `add` / `remove`): the ingestion engine applies it to the stored set in the
-- transaction that writes it, while the person is locked, so that two changes of one set at once both count
-- (gateway/ingest/people.py; `changed_set` there is the same rule in Python).
--
-- The current value as a list (a single value is a set of one; none, an empty set), then the values added, each
-- once, in the order first seen, without the values removed.
CREATE FUNCTION person_set_change(current jsonb, added jsonb, removed jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(jsonb_agg(kept.value ORDER BY kept.first), '[]'::jsonb)
    FROM (
        SELECT m.value, min(m.n) AS first
        FROM (
            SELECT c.value, c.n
            FROM jsonb_array_elements(
                CASE WHEN current IS NULL THEN '[]'::jsonb
                     WHEN jsonb_typeof(current) = 'array' THEN current
                     ELSE jsonb_build_array(current) END
            ) WITH ORDINALITY AS c(value, n)
            UNION ALL
            SELECT a.value, 1000000000 + a.n
            FROM jsonb_array_elements(COALESCE(added, '[]'::jsonb)) WITH ORDINALITY AS a(value, n)
        ) AS m
        WHERE NOT EXISTS (
            SELECT FROM jsonb_array_elements(COALESCE(removed, '[]'::jsonb)) AS r(value) WHERE r.value = m.value
        )
        GROUP BY m.value
    ) AS kept
$$;
