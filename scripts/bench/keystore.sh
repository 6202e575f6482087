#!/usr/bin/env bash
# Runs the keystore benchmarks (crates/kms-store/benches/keystore.rs) and
# prints their figures with the ratios that matter, each against a reference
# measured in the same process (absolute figures vary between machines):
#
#   facade encrypt rate / raw aws-lc-rs AES-256-GCM seal rate   target >= 0.5
#   encrypt latency with 100,000 keys / with 1,000 keys (warm)  target <= 1.2
#   create-key rate (SQLite, PostgreSQL), sign rate per key spec
#
# PostgreSQL: when 127.0.0.1:5432 answers (user postgres, trust auth), a
# fresh database is created for the create_key/postgres benchmarks and
# dropped on exit. Otherwise those rows show "-".
#
# Usage: scripts/bench/keystore.sh [criterion filter…]
#   KMS_BENCH_BIG_KEYS=10000   store size of the "big" encrypt_with_n_keys case (default 100000)
#   KMS_BENCH_WARM_UP=1 KMS_BENCH_MEASUREMENT=3   criterion times in seconds
#   KMS_BENCH_ENFORCE=1        exit 1 when a ratio misses its target
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kms-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
warm_up="${KMS_BENCH_WARM_UP:-1}"
measurement="${KMS_BENCH_MEASUREMENT:-3}"

work="$(mktemp -d)"
pg_db=""
cleanup() {
    if [[ -n "$pg_db" ]]; then
        psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -qc \
            "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 ||
            echo "warning: could not drop the PostgreSQL database $pg_db" >&2
    fi
    rm -rf "$work"
}
trap cleanup EXIT

if command -v psql >/dev/null &&
    psql -h 127.0.0.1 -U postgres -d test -Atqc 'SELECT 1' >/dev/null 2>&1; then
    pg_db="kms_bench_$$_${RANDOM}"
    psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $pg_db" >/dev/null
    export KMS_BENCH_PG_URL="postgres://postgres@127.0.0.1:5432/$pg_db"
    echo "PostgreSQL: benchmarking create_key in the fresh database $pg_db" >&2
else
    unset KMS_BENCH_PG_URL
    echo "PostgreSQL is not reachable on 127.0.0.1:5432: the create_key/postgres rows are skipped" >&2
fi

started=$SECONDS
# Criterion's "bencher" output goes to stdout (one line per benchmark, the
# median in ns); setup progress and warnings go to stderr.
exec 4> >(tee "$work/stderr.txt" >&2)
stderr_tee=$!
cargo bench -p kms-store --bench keystore -- \
    --output-format bencher --warm-up-time "$warm_up" --measurement-time "$measurement" "$@" \
    2>&4 | tee "$work/bench.txt"
exec 4>&-
wait "$stderr_tee" 2>/dev/null || true
elapsed=$((SECONDS - started))

# id -> median ns
declare -A ns=()
while read -r id value; do
    ns["$id"]="$value"
done < <(sed -nE 's/^test ([^ ]+) \.\.\. bench: +([0-9,.]+) ns\/iter.*/\1 \2/p' "$work/bench.txt" | tr -d ',')

big="${KMS_BENCH_BIG_KEYS:-100000}"
missed=0

# t ID: the median as a time; r ID: its rate per second ("-" when absent).
t() {
    local v="${ns[$1]:-}"
    [[ -z "$v" ]] && { echo "-"; return; }
    awk -v v="$v" 'BEGIN {
        if (v >= 1e6) printf "%.2f ms\n", v / 1e6;
        else if (v >= 1e3) printf "%.2f us\n", v / 1e3;
        else printf "%.0f ns\n", v }'
}
r() {
    local v="${ns[$1]:-}"
    [[ -z "$v" ]] && { echo "-"; return; }
    awk -v v="$v" 'BEGIN { printf "%.0f\n", 1e9 / v }'
}

# rate_ratio A B: A's rate over B's rate (= B's time / A's time).
rate_ratio() {
    local a="${ns[$1]:-}" b="${ns[$2]:-}"
    if [[ -n "$a" && -n "$b" ]]; then awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }'; else echo "-"; fi
}
# lat_ratio A B: A's time over B's time.
lat_ratio() {
    local a="${ns[$1]:-}" b="${ns[$2]:-}"
    if [[ -n "$a" && -n "$b" ]]; then awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }'; else echo "-"; fi
}
# target_row LABEL VALUE OP TARGET: a ratio row with its verdict (no
# subshell, so that a miss is remembered in $missed).
target_row() {
    local verdict="n/a"
    if [[ "$2" != "-" ]]; then
        if awk -v v="$2" -v t="$4" -v op="$3" 'BEGIN { exit !((op == ">=") ? v >= t : v <= t) }'; then
            verdict="ok"
        else
            verdict="MISSED"
            missed=1
        fi
    fi
    ratio_row "$1" "$2" "$3 $4" "$verdict"
}

row() { printf '  %-44s %12s %14s\n' "$1" "$2" "$3"; }
ratio_row() { printf '  %-44s %12s %14s  %s\n' "$1" "$2" "$3" "$4"; }
hr() { printf '%s\n' "-----------------------------------------------------------------------------------"; }

echo
hr
echo "Keystore benchmarks (criterion medians; rate = 1/median, one task unless said)"
echo "host: $(nproc) CPU(s), $(uname -m); ran ${elapsed}s; other builds on this machine add noise"
hr
printf '  %-44s %12s %14s\n' "benchmark" "time/op" "rate (op/s)"
echo "encrypt: AES_256 key, SQLite store, KmsManager facade vs raw aws-lc-rs"
row "raw_nonce/12  (aws_lc_rs::rand::fill, 12 B)" "$(t encrypt/raw_nonce/12)" "$(r encrypt/raw_nonce/12)"
for size in 32 4096; do
    label="$size B"
    [[ $size == 4096 ]] && label="4 KiB"
    row "raw_seal/$size   (LessSafeKey, $label)" "$(t encrypt/raw_seal/$size)" "$(r encrypt/raw_seal/$size)"
    row "facade_encrypt/$size" "$(t encrypt/facade_encrypt/$size)" "$(r encrypt/facade_encrypt/$size)"
    row "facade_encrypt_ctx2/$size (2-pair context)" "$(t encrypt/facade_encrypt_ctx2/$size)" "$(r encrypt/facade_encrypt_ctx2/$size)"
    row "raw_open/$size" "$(t encrypt/raw_open/$size)" "$(r encrypt/raw_open/$size)"
    row "facade_decrypt/$size" "$(t encrypt/facade_decrypt/$size)" "$(r encrypt/facade_decrypt/$size)"
    row "facade_decrypt_ctx2/$size" "$(t encrypt/facade_decrypt_ctx2/$size)" "$(r encrypt/facade_decrypt_ctx2/$size)"
done
echo "sign: 32-byte RAW message, default algorithm of the spec"
row "raw/ECC_NIST_P256 (aws-lc-rs EcdsaKeyPair)" "$(t sign/raw/ECC_NIST_P256)" "$(r sign/raw/ECC_NIST_P256)"
for spec in ECC_NIST_P256 ECC_NIST_P384 ED25519 RSA_2048 RSA_3072 RSA_4096; do
    row "facade/$spec" "$(t sign/facade/$spec)" "$(r sign/facade/$spec)"
done
echo "create_key: AES_256 (8_tasks = time per key with 8 concurrent creators)"
for db in sqlite postgres; do
    for tasks in 1_task 8_tasks; do
        row "$db/$tasks" "$(t create_key/$db/$tasks)" "$(r create_key/$db/$tasks)"
    done
done
bulk="$(sed -nE 's/^encrypt_with_n_keys: created ([0-9]+) keys in ([0-9.]+) s \(([0-9]+) keys\/s, ([0-9]+) tasks\)/\3 keys\/s (\1 keys, \4 tasks)/p' "$work/stderr.txt" | tail -1)"
[[ -n "$bulk" ]] && row "sqlite bulk fill (setup of the N-key store)" "" "$bulk"
echo "encrypt_with_n_keys: 32 B; warm = random key of a warmed 1,000-key subset,"
echo "  cold = next key of a shuffled cycle over all N (first touch at N=$big)"
for n in 1000 "$big"; do
    row "warm/$n" "$(t encrypt_with_n_keys/warm/$n)" "$(r encrypt_with_n_keys/warm/$n)"
    row "cold/$n" "$(t encrypt_with_n_keys/cold/$n)" "$(r encrypt_with_n_keys/cold/$n)"
done
hr
printf '  %-44s %12s %14s  %s\n' "ratio" "value" "target" "verdict"
v="$(rate_ratio encrypt/facade_encrypt/32 encrypt/raw_seal/32)"
target_row "facade encrypt 32 B rate / raw seal rate" "$v" ">=" 0.5
v="$(rate_ratio encrypt/facade_encrypt/4096 encrypt/raw_seal/4096)"
target_row "facade encrypt 4 KiB rate / raw seal rate" "$v" ">=" 0.5
v="$(rate_ratio encrypt/facade_encrypt_ctx2/32 encrypt/raw_seal/32)"
ratio_row "  same, 2-pair context, 32 B" "$v" "" ""
v="$(rate_ratio encrypt/facade_decrypt/32 encrypt/raw_open/32)"
ratio_row "  facade decrypt 32 B rate / raw open rate" "$v" "" ""
v="$(rate_ratio encrypt/facade_decrypt/4096 encrypt/raw_open/4096)"
ratio_row "  facade decrypt 4 KiB rate / raw open rate" "$v" "" ""
v="$(lat_ratio "encrypt_with_n_keys/warm/$big" encrypt_with_n_keys/warm/1000)"
target_row "encrypt latency, warm: $big keys / 1000 keys" "$v" "<=" 1.2
v="$(lat_ratio "encrypt_with_n_keys/cold/$big" "encrypt_with_n_keys/warm/$big")"
ratio_row "  first touch / warm, at $big keys" "$v" "" ""
v="$(rate_ratio sign/facade/ECC_NIST_P256 sign/raw/ECC_NIST_P256)"
ratio_row "  facade P-256 sign rate / raw aws-lc-rs sign" "$v" "" ""
v="$(rate_ratio create_key/postgres/8_tasks create_key/sqlite/8_tasks)"
ratio_row "  create-key rate, PostgreSQL / SQLite (8 tasks)" "$v" "" ""
hr

if [[ "${KMS_BENCH_ENFORCE:-0}" == 1 && $missed == 1 ]]; then
    echo "a ratio missed its target (KMS_BENCH_ENFORCE=1)" >&2
    exit 1
fi
