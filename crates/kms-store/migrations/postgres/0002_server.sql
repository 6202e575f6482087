-- The server's tables: API tokens (only SHA-256 hashes), policies, and the
-- hash-chained audit log. Times are Unix milliseconds.
CREATE TABLE kms_tokens (
    id TEXT PRIMARY KEY,               -- public accessor, names the token
    hash BYTEA NOT NULL UNIQUE,         -- SHA-256 of the secret token
    principal TEXT NOT NULL,
    policies TEXT NOT NULL,            -- JSON array of policy names
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE kms_policies (
    name TEXT PRIMARY KEY,
    document TEXT NOT NULL,            -- JSON rules
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- hash = SHA-256(prev_hash || canonical record); see kms_store::audit.
CREATE TABLE kms_audit (
    seq BIGINT PRIMARY KEY,
    time_ms BIGINT NOT NULL,
    principal TEXT NOT NULL,
    operation TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    key_version BIGINT,
    outcome TEXT NOT NULL,
    request_id TEXT NOT NULL,
    source TEXT NOT NULL,
    prev_hash BYTEA NOT NULL,
    hash BYTEA NOT NULL
);
CREATE INDEX kms_audit_entity ON kms_audit (entity_id);

-- The chain's head: the last sequence number and hash. Writers lock this
-- row first, so appends from several nodes serialise.
CREATE TABLE kms_audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
INSERT INTO kms_audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));
