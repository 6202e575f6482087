#!/usr/bin/env bash
# Builds the `kms` binary (release) and walks through the quick start in a
# throw-away store: init, create a key, encrypt with a context, decrypt,
# show that another context fails, rotate, sign and verify with openssl.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kms-target}"
cargo build --release -p kms-cli
kms="$CARGO_TARGET_DIR/release/kms"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export KMS_STORE="$work/kms.db"
printf 'quick start passphrase\n' > "$work/pass"
export KMS_PASSPHRASE_FILE="$work/pass"

set -x
"$kms" init
"$kms" key create --spec AES_256 --alias app --description "quick start"
echo secret | "$kms" encrypt --key alias/app --context env=prod > "$work/secret.kms"
cat "$work/secret.kms"
"$kms" decrypt --context env=prod < "$work/secret.kms"
! "$kms" decrypt --context env=dev < "$work/secret.kms"
"$kms" key rotate alias/app
"$kms" decrypt --context env=prod < "$work/secret.kms"
"$kms" key create --spec ECC_NIST_P256 --alias signer
printf 'release 1.0' > "$work/msg"
"$kms" sign --key alias/signer --input "$work/msg" --output "$work/sig"
"$kms" key public-key alias/signer --format pem > "$work/pub.pem"
openssl dgst -sha256 -verify "$work/pub.pem" -signature "$work/sig" "$work/msg"
"$kms" key list
"$kms" status
