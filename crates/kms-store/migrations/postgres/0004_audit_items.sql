-- How many items of one request a record stands for: a batch whose items
-- share key, version and outcome is one record with its item count.
-- Records written before this column stand for one item each.
ALTER TABLE kms_audit ADD COLUMN items INTEGER NOT NULL DEFAULT 1;
