-- Three indexes that another index already serves, each one more entry to write for every
-- company inserted or moved to a new status (a status change is never a HOT update: status is
-- indexed) and for every score:
-- - companies_date_found_idx (date_found): companies_found_idx (date_found) include (industry,
--   state), 0003, has the same key and answers the weekly report index-only;
-- - companies_status_count_idx (status): made for counting companies per status, which the
--   status deltas of 0004 answer since; companies_status_idx (status, updated_at) serves a
--   lookup by status;
-- - lead_scores_scored_at_idx (scored_at): lead_scores_scored_tier_idx (scored_at) include
--   (tier), 0003, has the same key.
-- 10,000 companies inserted, moved twice and scored, on the 2-core machine (24 Nov): the insert
-- ≈ 121 → 106 ms, each status update ≈ 112 → 87 and 119 → 100 ms, the scores ≈ 165 → 161 ms.
drop index if exists companies_date_found_idx;
drop index if exists companies_status_count_idx;
drop index if exists lead_scores_scored_at_idx;
