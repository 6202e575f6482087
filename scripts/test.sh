#!/usr/bin/env bash
# The one test entry point: installs the peers the tests need (idempotently,
# into .cache/, git-ignored), then runs rustfmt, clippy and every test with
# KMS_REQUIRE_PEERS=1 so that a missing peer fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kms-target}"
export KMS_REQUIRE_PEERS=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

step "peers"
source scripts/peers/install.sh

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test (KMS_REQUIRE_PEERS=1, PostgreSQL at ${KMS_TEST_PG_URL})"
cargo test --workspace --locked --no-fail-fast

step "deploy/ (systemd-analyze, kubernetes-validate, hadolint)"
bash deploy/check.sh

step "schemathesis against /openapi.json (no 5xx; statuses, content types and bodies as documented)"
bash scripts/check-openapi.sh

step "done"
