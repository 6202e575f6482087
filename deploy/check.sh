#!/usr/bin/env bash
# Checks the deployment files: the systemd unit (systemd-analyze verify),
# the Kubernetes manifests (kubernetes-validate) and the Dockerfile
# (hadolint). The tools come from scripts/peers/install.sh (~/.cache/kms-peers/venv).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${KMS_PEERS_VENV:-${KMS_PEERS_DIR:-$HOME/.cache/kms-peers}/venv}"

# systemd-analyze checks that ExecStart exists: verify a copy whose
# ExecStart points at a stand-in (everything else is checked as written).
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
printf '#!/bin/sh\n' > "$tmp/kms-service"
chmod +x "$tmp/kms-service"
sed "s#/usr/local/bin/kms-service#$tmp/kms-service#" deploy/kms.service > "$tmp/kms.service"
systemd-analyze verify "$tmp/kms.service"
echo "systemd unit: ok"

"$venv/bin/kubernetes-validate" --strict deploy/k8s/*.yaml
"$venv/bin/hadolint" deploy/Dockerfile
echo "Dockerfile: ok"
