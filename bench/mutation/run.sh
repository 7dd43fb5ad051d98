#!/usr/bin/env bash
# Mutation testing with mutmut 3 over a scratch copy of the repository.
#   bench/mutation/run.sh ci     # the transition rules and the ledger (CI runs this; ~1-2 min)
#   bench/mutation/run.sh full   # every core module (on demand; see README.md for the time)
# Writes bench/mutation/results/<profile>.md (scores per module, survivors with file:line) and
# exits 1 when a module of the profile scores under its target.
set -euo pipefail
profile=${1:-ci}
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
python=${PYTHON:-$repo/.venv/bin/python}
# A git worktree has no venv of its own: use the one that runs this script's Python.
[ -x "$python" ] || python=$(command -v python3)
work=${MUTATION_WORK:-$(mktemp -d /tmp/modx-mutation-XXXXXX)}
mkdir -p "$work"
# A copy without the mutants of an earlier run, caches or local state.
for item in modx bus services agents ontology examples tests pyproject.toml; do
  rm -rf "${work:?}/$item"
  cp -r "$repo/$item" "$work/$item"
done
# The profile, without test paths that do not exist in this checkout.
while IFS= read -r line; do
  case "$line" in
    "    tests/"*) path=${line#    } && [ -e "$work/${path%%::*}" ] || continue ;;
  esac
  printf '%s\n' "$line"
done < "$here/$profile.cfg" > "$work/setup.cfg"
cd "$work"
# A profile whose tests share a server's state (a Redis database they flush) caps the
# processes with a "# jobs: N" line.
jobs=${MUTATION_JOBS:-2}
cap=$(sed -n 's/^# jobs: *\([0-9]*\).*/\1/p' "$here/$profile.cfg")
if [ -n "$cap" ] && [ "$jobs" -gt "$cap" ]; then jobs=$cap; fi
# The tests find the data and servers they need as usual (MODX_TEST_* variables). mutmut's
# progress goes to a log; the report below says what matters (and fails on a broken run).
echo "mutmut ($profile) in $work; progress in $work/mutmut.log"
env -u PYTHONPATH MODX_SARA_DIR="${MODX_SARA_DIR:-$repo/../shared/data/sara}" \
  nice -n 10 "$python" -m mutmut run --max-children "$jobs" > "$work/mutmut.log" 2>&1 \
  || echo "mutmut exited with $? (see $work/mutmut.log)"
"$python" "$here/report.py" --profile "$profile" --work "$work" --out "$here/results/$profile.md"
