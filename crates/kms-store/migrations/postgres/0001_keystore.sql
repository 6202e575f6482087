-- The embedded keystore. Key material is only ever stored sealed under the
-- root key (AES-256-GCM); times are Unix milliseconds.
CREATE TABLE kms_seal (
    id BIGINT PRIMARY KEY,
    method TEXT NOT NULL,            -- 'passphrase' or 'key_file'
    kdf_salt BYTEA,
    kdf_memory_kib BIGINT,
    kdf_iterations BIGINT,
    kdf_parallelism BIGINT,
    wrapped_root_key BYTEA NOT NULL,    -- AES-256-GCM(kek, root key): nonce | ct | tag
    created_at BIGINT NOT NULL
);

CREATE TABLE kms_keys (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    usage TEXT NOT NULL,
    state TEXT NOT NULL,
    origin TEXT NOT NULL,
    description TEXT NOT NULL,
    current_version BIGINT NOT NULL,
    min_decryption_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    rotated_at BIGINT,
    rotation_period_days BIGINT,
    next_rotation_at BIGINT,
    deletion_date BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX kms_keys_state ON kms_keys (state);
CREATE INDEX kms_keys_spec ON kms_keys (spec);

CREATE TABLE kms_key_versions (
    key_id TEXT NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    sealed_material BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (key_id, version)
);

CREATE TABLE kms_key_tags (
    key_id TEXT NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (key_id, name)
);
CREATE INDEX kms_key_tags_name ON kms_key_tags (name, value);

CREATE TABLE kms_aliases (
    name TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX kms_aliases_key ON kms_aliases (key_id);

CREATE TABLE kms_import_tokens (
    token TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
    sealed_wrapping_key BYTEA NOT NULL,
    expires_at BIGINT NOT NULL
);
