-- The notifier (issue 4): approval emails sent once, human decisions on leads and drafts.

-- Sending an approval email is claimed before the transport is called, and `notified_at` is
-- set after it answered: a redelivered request whose email went out sends nothing, one whose
-- sender crashed mid-send is sent again once the claim is older than the notifier's lease.
alter table human_approval_requests
  add column notify_claimed_at  timestamptz,
  add column notify_attempts    integer not null default 0,
  add column notify_transport   text,
  add column notify_message_id  text,
  add column notify_error       text;

-- A lead a human rejected is recorded as such (not merely "not approved"), so stuck checks and
-- reports can tell a decided lead from a forgotten one.
alter table lead_scores
  add column rejected_human_at  timestamptz,
  add column rejected_by        text;

-- What the writer wrote, kept when a reviewer edits a draft before approving it. An edited body
-- has no rendered HTML (`body_html` null): the sender renders it from `body_text`.
alter table email_drafts
  add column original_subject   text,
  add column original_body_text text,
  add column decision_note      text,
  alter column body_html drop not null;
