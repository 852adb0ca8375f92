-- Indexes for the monitor's questions (services/monitor). Each one serves a query that
-- otherwise reads a whole table; the plans are described next to the queries in
-- services/monitor/src/PipelineStore.ts and WeeklyReport.ts.

-- High-tier scores in score order: top leads walk it and stop after ten; pipeline value and the
-- stuck check read only high-tier rows instead of every score. Carries company_id so the
-- latest-score anti-join and the joins need no visit to the score row.
create index lead_scores_high_idx on lead_scores (score desc, scored_at desc, id desc)
  include (company_id, approved_human) where tier = 'high';

-- High-tier leads waiting for approval, oldest first: the "unapproved over 48 h" stuck check.
create index lead_scores_high_unapproved_idx on lead_scores (scored_at)
  include (company_id) where tier = 'high' and not approved_human;

-- Companies per status (counts, the leadflow_companies gauge): eleven values, so the B-tree
-- deduplicates to a few MB (companies_status_idx carries updated_at and is ~6x larger); a
-- parallel index-only scan reads it instead of the table.
create index companies_status_count_idx on companies (status);

-- Scores of a period by tier (weekly report), index-only: the plain scored_at index needs a
-- heap visit per score, and a week's scores are spread over the whole table.
create index lead_scores_scored_tier_idx on lead_scores (scored_at) include (tier);

-- Companies found in a period by industry and state (weekly report), index-only.
create index companies_found_idx on companies (date_found) include (industry, state);
