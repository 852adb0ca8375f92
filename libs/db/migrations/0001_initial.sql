-- Leadflow's whole data model (DESIGN section 10). Landed migrations never change:
-- later changes go into new numbered files.

create table runs (
  id                 text primary key,
  industry           text not null,
  location           text not null,
  requested_count    integer not null check (requested_count between 1 and 1000),
  request            jsonb not null,
  status             text not null check (status in ('requested','scouting','analyzing','enriching','writing','awaiting_approval','completed','failed','rejected')),
  stage              text check (stage in ('scout','analyst','enrichment','writer')),
  summary            jsonb not null default '{}'::jsonb,
  error              text,
  error_stage        text,
  notes              text[] not null default '{}',
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  ended_at           timestamptz
);
create index runs_status_idx on runs (status, updated_at);

-- The task log: one row per dispatch of a stage command (one per chunk and attempt).
create table tasks (
  id                 uuid primary key,
  run_id             text not null references runs (id) on delete cascade,
  agent              text not null,
  chunk              integer not null default 0,
  attempt            integer not null check (attempt >= 1),
  params             jsonb not null,
  status             text not null check (status in ('scheduled','running','completed','failed','timed_out')),
  result_summary     jsonb,
  error              text,
  deadline_at        timestamptz,
  not_before         timestamptz,
  created_at         timestamptz not null default now(),
  started_at         timestamptz,
  ended_at           timestamptz,
  duration_ms        integer,
  unique (run_id, agent, chunk, attempt)
);
create index tasks_run_idx on tasks (run_id, agent, chunk);
create index tasks_open_deadline_idx on tasks (deadline_at) where status in ('scheduled','running');

create table companies (
  id                 uuid primary key default gen_random_uuid(),
  name               text not null,
  industry           text not null,
  address            text,
  city               text,
  state              text,
  postal_code        text,
  country            text not null default 'US',
  phone              text,
  phone_source       text,
  website            text,
  domain             text,
  -- normalised domain, else normalised name + city + state: the cross-run de-duplication key
  dedupe_key         text not null unique,
  source             text not null,
  source_ref         text,
  is_sample          boolean not null default false,
  employee_count     integer,
  sites              integer,
  latitude           double precision,
  longitude          double precision,
  status             text not null default 'new' check (status in ('new','enriched','scored','approved','contacted','replied','meeting_booked','won','lost','no_response','archived')),
  first_run_id       text references runs (id) on delete set null,
  raw                jsonb,
  date_found         timestamptz not null default now(),
  updated_at         timestamptz not null default now()
);
create index companies_status_idx on companies (status, updated_at);
create index companies_date_found_idx on companies (date_found);

-- Which companies a run found (a company de-duplicated from an earlier run is linked again).
create table run_companies (
  run_id             text not null references runs (id) on delete cascade,
  company_id         uuid not null references companies (id) on delete cascade,
  position           integer not null,
  is_new             boolean not null,
  source             text not null,
  primary key (run_id, company_id)
);
create index run_companies_position_idx on run_companies (run_id, position);

create table company_features (
  company_id                 uuid primary key references companies (id) on delete cascade,
  run_id                     text references runs (id) on delete set null,
  industry_key               text not null,
  employees_estimate         integer not null,
  size_band                  text not null,
  sites                      integer not null,
  floor_area_sqft            integer not null,
  energy_intensity_kwh_sqft  numeric not null,
  electricity_price_kwh      numeric not null,
  annual_kwh                 numeric not null,
  annual_utility_spend       numeric not null,
  savings_low                numeric not null,
  savings_mid                numeric not null,
  savings_high               numeric not null,
  assumptions                jsonb not null,
  model_version              text not null,
  computed_at                timestamptz not null default now()
);

create table lead_scores (
  id                 uuid primary key default gen_random_uuid(),
  company_id         uuid not null references companies (id) on delete cascade,
  run_id             text not null references runs (id) on delete cascade,
  score              integer not null check (score between 0 and 100),
  tier               text not null check (tier in ('high','medium','low')),
  reasons            jsonb not null,
  model_version      text not null,
  rationale          text,
  scored_at          timestamptz not null default now(),
  approved_human     boolean not null default false,
  approved_by        text,
  approved_at        timestamptz,
  unique (company_id, run_id)
);
create index lead_scores_company_idx on lead_scores (company_id, scored_at desc);
create index lead_scores_run_idx on lead_scores (run_id, tier);
create index lead_scores_scored_at_idx on lead_scores (scored_at);

create table contacts (
  id                 uuid primary key default gen_random_uuid(),
  company_id         uuid not null references companies (id) on delete cascade,
  full_name          text,
  first_name         text,
  last_name          text,
  title              text,
  email              text,
  phone              text,
  source             text not null,
  confidence         integer check (confidence between 0 and 100),
  linkedin_url       text,
  created_at         timestamptz not null default now(),
  unique (company_id, email)
);
create index contacts_company_idx on contacts (company_id);

create table human_approval_requests (
  id                 uuid primary key,
  run_id             text references runs (id) on delete cascade,
  approval_type      text not null check (approval_type in ('leads','emails')),
  status             text not null default 'pending' check (status in ('pending','approved','rejected','partially_approved','expired')),
  -- what the request covers: company ids (leads) or draft ids (emails)
  item_ids           uuid[] not null,
  summary            jsonb not null default '{}'::jsonb,
  dedupe_key         text not null unique,
  requested_at       timestamptz not null default now(),
  expires_at         timestamptz,
  notified_at        timestamptz,
  decided_at         timestamptz,
  decided_by         text,
  decision_note      text,
  decision           jsonb
);
create index approvals_status_idx on human_approval_requests (status, approval_type, requested_at);

create table email_drafts (
  id                 uuid primary key default gen_random_uuid(),
  company_id         uuid not null references companies (id) on delete cascade,
  contact_id         uuid references contacts (id) on delete set null,
  run_id             text references runs (id) on delete set null,
  approval_id        uuid references human_approval_requests (id) on delete set null,
  sequence           integer not null default 0,
  to_email           text,
  to_name            text,
  subject            text not null,
  body_text          text not null,
  body_html          text not null,
  backend            text not null,
  is_fallback        boolean not null default false,
  status             text not null default 'draft' check (status in ('draft','approved','rejected','sent','failed','suppressed')),
  edited             boolean not null default false,
  approved_human     boolean not null default false,
  approved_by        text,
  approved_at        timestamptz,
  scheduled_at       timestamptz,
  sent_at            timestamptz,
  provider_message_id text,
  created_at         timestamptz not null default now(),
  unique (company_id, sequence)
);
create index email_drafts_status_idx on email_drafts (status, approved_at);

create table outreach_events (
  id                 uuid primary key default gen_random_uuid(),
  company_id         uuid references companies (id) on delete cascade,
  contact_id         uuid references contacts (id) on delete set null,
  draft_id           uuid references email_drafts (id) on delete set null,
  event_type         text not null check (event_type in ('sent','followup_sent','delivered','opened','clicked','replied','bounced','unsubscribed','spamreport','deferred','dropped')),
  reply_sentiment    text check (reply_sentiment in ('positive','neutral','negative')),
  provider_event_id  text unique,
  metadata           jsonb not null default '{}'::jsonb,
  event_at           timestamptz not null default now()
);
create index outreach_events_at_idx on outreach_events (event_at desc);
create index outreach_events_type_at_idx on outreach_events (event_type, event_at);

create table suppressions (
  email              text primary key check (email = lower(email)),
  reason             text not null,
  source             text not null,
  created_at         timestamptz not null default now()
);

-- Transactional outbox: written in the same transaction as the state it announces.
create table outbox (
  id                 uuid primary key,
  subject            text not null,
  contract           text not null,
  payload            text not null,
  headers            jsonb not null default '{}'::jsonb,
  created_at         timestamptz not null default now(),
  available_at       timestamptz not null default now(),
  published_at       timestamptz,
  attempts           integer not null default 0,
  last_error         text
);
create index outbox_pending_idx on outbox (available_at) where published_at is null;

-- Inbox: (consumer, message id) recorded with the handler's writes, so a redelivery is skipped.
create table inbox (
  consumer           text not null,
  message_id         text not null,
  processed_at       timestamptz not null default now(),
  primary key (consumer, message_id)
);

create table provider_cache (
  provider           text not null,
  cache_key          text not null,
  value              jsonb not null,
  created_at         timestamptz not null default now(),
  expires_at         timestamptz not null,
  primary key (provider, cache_key)
);
create index provider_cache_expires_idx on provider_cache (expires_at);

-- Wakes outbox relays in other processes; one notification per statement, delivered on commit.
create function leadflow_outbox_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('leadflow_outbox', '');
  return null;
end $$;
create trigger outbox_notify after insert on outbox for each statement execute function leadflow_outbox_notify();
