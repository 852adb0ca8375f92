-- A draft's rendered HTML is ≈ 7 KB, compressed on the way in (TOAST). lz4 compresses it in a
-- fraction of pglz's time (a 250-draft insert: ≈ 20 µs less Postgres CPU per draft, 24 Nov), so
-- it is used where the server was built with it (Debian's is; PGlite is not asked to).
do $$
begin
  if exists (
    select 1 from pg_settings where name = 'default_toast_compression' and 'lz4' = any (enumvals)
  ) then
    alter table email_drafts alter column body_html set compression lz4;
  end if;
end $$;
