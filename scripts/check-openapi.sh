#!/usr/bin/env bash
# Fuzzes every operation of /openapi.json with schemathesis against a
# throw-away `kms-service --dev` and runs the checks not_a_server_error (no
# answer is a 5xx), status_code_conformance (every status is one the
# document declares), content_type_conformance (every Content-Type is one
# it declares) and response_schema_conformance (every body matches the
# declared schema). `sys/seal` is left out (a sealed dev server answers 503
# by design and cannot be unsealed by the fuzzer), and so is `sys/unseal`
# (wrong passphrases lock the address out with 429 after 10 tries, by
# design). Revoking a token runs in a second, last pass (with the token
# list, whose ids the fuzzer reuses): it revokes the root token it runs
# with, after which every request would answer 401, then 429.
# Needs scripts/peers/install.sh (the venv).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$HOME/.cache/kms-target}"
venv="${KMS_PEERS_VENV:-${KMS_PEERS_DIR:-$HOME/.cache/kms-peers}/venv}"
cargo build -q -p kms-server --bin kms-service
port="${KMS_OPENAPI_PORT:-18199}"
"$target/debug/kms-service" --dev --dev-root-token openapi-check-token \
    --listen "127.0.0.1:$port" >/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
    curl -fsS "http://127.0.0.1:$port/api/v1/kms/health" >/dev/null 2>&1 && break
    sleep 0.2
done
revoke="DELETE /api/v1/auth/tokens/{id}"
fuzz() {
    "$venv/bin/st" run "http://127.0.0.1:$port/openapi.json" \
        -H "Authorization: Bearer openapi-check-token" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --phases examples,fuzzing \
        --max-examples "${KMS_OPENAPI_EXAMPLES:-30}" \
        --exclude-path /api/v1/sys/seal \
        --exclude-path /api/v1/sys/unseal \
        --suppress-health-check all "$@"
}
fuzz --exclude-name "$revoke"
fuzz --include-name "GET /api/v1/auth/tokens" --include-name "$revoke"
