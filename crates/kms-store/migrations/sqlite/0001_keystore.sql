-- The embedded keystore. Key material is only ever stored sealed under the
-- root key (AES-256-GCM); times are Unix milliseconds.
CREATE TABLE kms_seal (
    id INTEGER PRIMARY KEY,
    method TEXT NOT NULL,            -- 'passphrase' or 'key_file'
    kdf_salt BLOB,
    kdf_memory_kib INTEGER,
    kdf_iterations INTEGER,
    kdf_parallelism INTEGER,
    wrapped_root_key BLOB NOT NULL,    -- AES-256-GCM(kek, root key): nonce | ct | tag
    created_at INTEGER NOT NULL
);

CREATE TABLE kms_keys (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    usage TEXT NOT NULL,
    state TEXT NOT NULL,
    origin TEXT NOT NULL,
    description TEXT NOT NULL,
    current_version INTEGER NOT NULL,
    min_decryption_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    rotated_at INTEGER,
    rotation_period_days INTEGER,
    next_rotation_at INTEGER,
    deletion_date INTEGER,
    updated_at INTEGER NOT NULL
);
CREATE INDEX kms_keys_state ON kms_keys (state);
CREATE INDEX kms_keys_spec ON kms_keys (spec);

CREATE TABLE kms_key_versions (
    key_id TEXT NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    sealed_material BLOB NOT NULL,
    created_at INTEGER NOT NULL,
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
    created_at INTEGER NOT NULL
);
CREATE INDEX kms_aliases_key ON kms_aliases (key_id);

CREATE TABLE kms_import_tokens (
    token TEXT PRIMARY KEY,
    key_id TEXT NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
    sealed_wrapping_key BLOB NOT NULL,
    expires_at INTEGER NOT NULL
);
