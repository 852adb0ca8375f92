-- Retention of the runtime's bookkeeping (libs/runtime Housekeeping.ts): the sweep deletes inbox
-- rows and published outbox rows past their retention, oldest first. BRIN indexes find them:
-- both tables are written in time order, so a block range summary is a few bytes per 128 pages
-- and inserts barely pay for it (a btree on the timestamp would cost every handled message).
create index inbox_processed_at_brin on inbox using brin (processed_at);
create index outbox_created_at_brin on outbox using brin (created_at);
