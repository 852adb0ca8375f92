-- Companies per status without counting the table (the monitor's counts and its
-- leadflow_companies gauge). A count(*) … group by status reads every company (≈ 80–150 ms at a
-- million on two cores, even index-only); instead, statement-level triggers add one delta row
-- per status a statement changed, aggregated over the statement's transition tables, so a
-- pipeline chunk of 250 companies adds one or two rows, not 250. No row is updated in place:
-- concurrent writers never wait on each other here. The monitor folds the deltas into one row
-- per status on every refresh (`compactStatusDeltas`), so the sum reads a few dozen rows.
create table company_status_deltas (
  status text not null,
  delta bigint not null
);

create function leadflow_company_status_inserted() returns trigger language plpgsql as $$
begin
  insert into company_status_deltas (status, delta)
  select status, count(*) from leadflow_new_rows group by status;
  return null;
end $$;

create function leadflow_company_status_updated() returns trigger language plpgsql as $$
begin
  insert into company_status_deltas (status, delta)
  select status, sum(d) from (
    select status, 1 as d from leadflow_new_rows
    union all
    select status, -1 as d from leadflow_old_rows
  ) changed
  group by status
  having sum(d) <> 0;
  return null;
end $$;

create function leadflow_company_status_deleted() returns trigger language plpgsql as $$
begin
  insert into company_status_deltas (status, delta)
  select status, -count(*) from leadflow_old_rows group by status;
  return null;
end $$;

create function leadflow_company_status_truncated() returns trigger language plpgsql as $$
begin
  delete from company_status_deltas;
  return null;
end $$;

-- (transition tables cannot be limited to `update of status`: an update of other columns
-- aggregates its rows and writes nothing, `having sum(d) <> 0`)
create trigger companies_status_inserted after insert on companies
  referencing new table as leadflow_new_rows
  for each statement execute function leadflow_company_status_inserted();
create trigger companies_status_updated after update on companies
  referencing old table as leadflow_old_rows new table as leadflow_new_rows
  for each statement execute function leadflow_company_status_updated();
create trigger companies_status_deleted after delete on companies
  referencing old table as leadflow_old_rows
  for each statement execute function leadflow_company_status_deleted();
create trigger companies_status_truncated after truncate on companies
  for each statement execute function leadflow_company_status_truncated();

insert into company_status_deltas (status, delta)
select status, count(*) from companies group by status;
