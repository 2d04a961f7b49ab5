-- The Countly letters of each totals row ("t":3,"n":1,...; weeks "u" alone; zero counts left out), kept with
-- the row: the calendar trees (resolvers/analytics/tree_sql.py) wrote them for every bucket of every read,
-- about a fifth to a third of a document's PostgreSQL time; written here, they cost each rollup upsert of the
-- ingestion one expression per row instead.
--
-- They must equal what tree_sql.py writes for rows it sums itself (metric values, segmentation values,
-- several keys): tests/graph/test_rollup_letters.py compares both on generated rows. Members are joined with
-- a leading comma and `ltrim` rather than `concat_ws`, which PostgreSQL does not count as immutable. Adding
-- a stored generated column rewrites each table once.
ALTER TABLE session_rollups ADD COLUMN letters text GENERATED ALWAYS AS (
    CASE
        WHEN dimension <> '' THEN NULL
        WHEN grain = 'w' THEN CASE WHEN u <> 0 THEN '"u":' || u::text END
        ELSE ltrim(
            CASE WHEN t <> 0 THEN ',"t":' || t::text ELSE '' END
            || CASE WHEN n <> 0 THEN ',"n":' || n::text ELSE '' END
            || CASE WHEN u <> 0 THEN ',"u":' || u::text ELSE '' END
            || CASE WHEN d <> 0 THEN ',"d":' || d::text ELSE '' END
            || CASE WHEN e <> 0 THEN ',"e":' || e::text ELSE '' END,
            ',')
    END
) STORED;

-- s and dur: a whole number below 2**53 as an integer (as JavaScript prints it), any other as PostgreSQL's
-- shortest text
ALTER TABLE event_rollups ADD COLUMN letters text GENERATED ALWAYS AS (
    CASE
        WHEN seg_key <> '' THEN NULL
        ELSE ltrim(
            CASE WHEN c <> 0 THEN ',"c":' || c::text ELSE '' END
            || CASE WHEN s <> 0 THEN ',"s":' || CASE WHEN s = trunc(s) AND abs(s) < 9007199254740992
                                                      THEN s::bigint::text ELSE s::text END
               ELSE '' END
            || CASE WHEN dur <> 0 THEN ',"dur":' || CASE WHEN dur = trunc(dur) AND abs(dur) < 9007199254740992
                                                          THEN dur::bigint::text ELSE dur::text END
               ELSE '' END,
            ',')
    END
) STORED;
