#!/usr/bin/env bash
# Sets everything up, then runs MODX embedded (API, orchestrator, built-in agents) with a demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/modx up "$@"
