#!/usr/bin/env bash
# Envelope file encryption against age and openssl, in the same run:
# a 1 GiB file encrypted and decrypted to /dev/null and to a file, wall time
# and peak RSS (/usr/bin/time -v) of each, then the ratios.
#
#   scripts/bench/files.sh            # builds `kms` in release mode
#   KMS_BIN=path/to/kms SIZE_MIB=256 RUNS=3 scripts/bench/files.sh
#
# Targets: kms >= 2x age both ways, >= 1.3x openssl, peak RSS < 64 MiB.
# Absolute figures depend on the machine and its load (run it on an idle
# machine); the ratios compare tools run back to back in the same script.
set -euo pipefail
cd "$(dirname "$0")/../.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kms-target}"
SIZE_MIB="${SIZE_MIB:-1024}"
RUNS="${RUNS:-3}"
if [ -z "${KMS_BIN:-}" ]; then
    cargo build --release -p kms-cli >&2
    KMS_BIN="$CARGO_TARGET_DIR/release/kms"
fi
for tool in age age-keygen openssl /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install age openssl time)" >&2; exit 1; }
done

work="$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/kms-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"

printf 'bench passphrase\n' > store-pass
kms() { "$KMS_BIN" --store "$work/kms.db" --passphrase-file "$work/store-pass" "$@"; }
kms init --argon2-memory-kib 8192 --argon2-iterations 1 >/dev/null
key="$(kms --json key create --spec AES_256 | sed -n 's/.*"key_id": *"\([^"]*\)".*/\1/p' | head -n1)"
age-keygen -o age-id.txt 2>/dev/null
age_r="$(age-keygen -y age-id.txt)"
aes_key="$(openssl rand -hex 32)"
aes_iv="$(openssl rand -hex 16)"

echo "making a ${SIZE_MIB} MiB input..." >&2
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > plain
kms encrypt-file plain --key "$key" -o plain.kms --force
age -e -r "$age_r" -o plain.age plain
openssl enc -aes-256-ctr -K "$aes_key" -iv "$aes_iv" -in plain -out plain.ctr

# measure NAME CMD...: best wall time of $RUNS runs and the peak RSS of that run.
declare -A SECS RSS
measure() {
    local name="$1"; shift
    local best="" best_rss=""
    for _ in $(seq 1 "$RUNS"); do
        rm -f out.tmp
        /usr/bin/time -v -o time.txt bash -c "$*" 2>/dev/null
        local s rss
        s="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' time.txt | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')"
        rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' time.txt)"
        if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best="$s"; best_rss="$rss"; fi
    done
    SECS[$name]="$best"
    RSS[$name]="$best_rss"
    awk -v n="$name" -v s="$best" -v r="$best_rss" -v m="$SIZE_MIB" \
        'BEGIN { printf "%-28s %7.3f s %8.0f MB/s  peak RSS %6.1f MiB\n", n, s, (s > 0 ? m*1.048576/s : 0), r/1024 }'
}

K="\"$KMS_BIN\" --store \"$work/kms.db\" --passphrase-file \"$work/store-pass\""
echo "== ${SIZE_MIB} MiB, best of ${RUNS}, $(nproc) cores"
measure "kms encrypt >/dev/null"      "$K encrypt-file plain --key $key -o - >/dev/null"
measure "age encrypt >/dev/null"      "age -e -r $age_r plain >/dev/null"
measure "openssl encrypt >/dev/null"  "openssl enc -aes-256-ctr -K $aes_key -iv $aes_iv -in plain -out /dev/null"
measure "kms decrypt >/dev/null"      "$K decrypt-file plain.kms -o - >/dev/null"
measure "age decrypt >/dev/null"      "age -d -i age-id.txt plain.age >/dev/null"
measure "openssl decrypt >/dev/null"  "openssl enc -d -aes-256-ctr -K $aes_key -iv $aes_iv -in plain.ctr -out /dev/null"
measure "kms encrypt >file"           "$K encrypt-file plain --key $key -o out.tmp --force"
measure "age encrypt >file"           "age -e -r $age_r -o out.tmp plain && sync out.tmp"
measure "openssl encrypt >file"       "openssl enc -aes-256-ctr -K $aes_key -iv $aes_iv -in plain -out out.tmp && sync out.tmp"
measure "age encrypt >file nosync"    "age -e -r $age_r -o out.tmp plain"
measure "openssl encrypt >file nosync" "openssl enc -aes-256-ctr -K $aes_key -iv $aes_iv -in plain -out out.tmp"
measure "kms decrypt >file"           "$K decrypt-file plain.kms -o out.tmp --force"
measure "age decrypt >file"           "age -d -i age-id.txt -o out.tmp plain.age && sync out.tmp"
measure "openssl decrypt >file"       "openssl enc -d -aes-256-ctr -K $aes_key -iv $aes_iv -in plain.ctr -out out.tmp && sync out.tmp"
measure "age decrypt >file nosync"    "age -d -i age-id.txt -o out.tmp plain.age"
measure "openssl decrypt >file nosync" "openssl enc -d -aes-256-ctr -K $aes_key -iv $aes_iv -in plain.ctr -out out.tmp"

echo "== ratios (time of the peer / time of kms; higher is better for kms)"
echo "   (>file: kms fsyncs before it names the output, so the peers are timed with"
echo "    'sync out.tmp' after them; the 'nosync' rows show them without it)"
ratio() { awk -v a="${SECS[$2]}" -v b="${SECS[$1]}" -v t="$3" -v n="$1 vs ${2%% *}" \
    'BEGIN { r = a / b; printf "%-44s %5.2fx  (target >= %sx) %s\n", n, r, t, (r >= t ? "ok" : "BELOW TARGET") }'; }
for dir in "encrypt >/dev/null" "decrypt >/dev/null" "encrypt >file" "decrypt >file"; do
    ratio "kms $dir" "age $dir" 2
    ratio "kms $dir" "openssl $dir" 1.3
done
max_rss=0
for n in "${!RSS[@]}"; do
    case "$n" in kms*) [ "${RSS[$n]}" -gt "$max_rss" ] && max_rss="${RSS[$n]}" ;; esac
done
awk -v r="$max_rss" 'BEGIN { printf "kms peak RSS %.1f MiB (target < 64 MiB) %s\n", r/1024, (r < 65536 ? "ok" : "ABOVE TARGET") }'
