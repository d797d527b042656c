#!/usr/bin/env bash
# Runs the end-to-end tests N times while two CPU-burning processes compete for the
# machine, then prints how many runs passed. A test suite that only passes on an idle
# machine blocks every landing on a shared CI runner.
#
#   scripts/tests-under-load.sh [RUNS] [-- extra cargo test arguments]
#
# RUNS defaults to 10. Output of failed runs is kept in target/tests-under-load/.
# Example: scripts/tests-under-load.sh 10 -- dtmf::   (only the DTMF tests)
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-10}
shift || true
[ "${1:-}" = "--" ] && shift
filter=("$@")
burners=${BURNERS:-2}

out=target/tests-under-load
mkdir -p "$out"
rm -f "$out"/run-*.log

echo "building the end-to-end tests first (not under load)"
# Build once and run that binary every time: each run tests the same build, and
# nothing is compiled under load.
binary=$(cargo test -p voicebot --test tests --no-run --message-format=json 2>/dev/null |
  grep '"executable":"' | grep '"name":"tests"' | sed 's/.*"executable":"\([^"]*\)".*/\1/' | tail -1)
if [ -z "$binary" ] || [ ! -x "$binary" ]; then
  echo "could not build the end-to-end tests"; exit 2
fi
echo "test binary: $binary"

pids=()
stop_load() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
}
trap stop_load EXIT
for _ in $(seq "$burners"); do
  yes > /dev/null &
  pids+=($!)
done
echo "load: $burners busy loops (pids ${pids[*]}) on $(nproc) cores"

passed=0
for run in $(seq "$runs"); do
  log="$out/run-$run.log"
  start=$(date +%s)
  if "$binary" --quiet "${filter[@]}" > "$log" 2>&1; then
    passed=$((passed + 1))
    verdict=passed
    rm -f "$log"
  else
    verdict="FAILED (log: $log)"
    grep -E '^(test .* FAILED|    [a-z_:]+)$|panicked at' "$log" | head -20
  fi
  echo "run $run/$runs: $verdict in $(( $(date +%s) - start )) s"
done
stop_load
trap - EXIT
echo "$passed of $runs runs passed under load"
[ "$passed" -eq "$runs" ]
