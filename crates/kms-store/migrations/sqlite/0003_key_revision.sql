-- A counter bumped by every change to a key or to the aliases that name it,
-- so that a cached key is revalidated with one indexed read of this column
-- instead of reloading the key, its aliases and its tags.
ALTER TABLE kms_keys ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
