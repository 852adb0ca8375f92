-- The "high-tier leads unapproved over 48 h" stuck check counted leads a human had rejected on
-- the review page (lead_scores.rejected_human_at, 0002): decided, not waiting, yet counted until
-- archived, so the alert fired for good after the first rejection. The check now leaves them
-- out, and its partial index with it: rejecting a lead takes it out of the index, and the check
-- stays a range scan of the leads that are really waiting.
drop index if exists lead_scores_high_unapproved_idx;
create index lead_scores_high_unapproved_idx on lead_scores (scored_at)
  include (company_id) where tier = 'high' and not approved_human and rejected_human_at is null;
