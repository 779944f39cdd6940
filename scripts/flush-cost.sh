#!/usr/bin/env bash
# What one flush costs the agent. Runs the end-to-end scenario (d) (20,000 records/s,
# librdkafka defaults) for 10 s against a fresh embedded agent per binary, interleaved
# A B A B ..., and divides the agent's CPU time and context switches over those 10 s by
# the flushes it made (PUTs on /metrics). At this rate nearly all of the agent's work is
# per flush, so this is steadier than the suite's CPU figures on a noisy machine.
# Prints, per run and binary: CPU ms per flush, by thread kind (tokio workers and blocking
# pool, sqlx's SQLite workers), voluntary and involuntary switches per flush, and the
# medians per binary.
#
#   scripts/flush-cost.sh BIN_A [BIN_B ...] [-- RUNS]   (kafka-bench: $KAFKA_BENCH or target/release)
set -euo pipefail
bins=() runs=3
while (($#)); do
  if [[ $1 == -- ]]; then runs=$2; break; fi
  bins+=("$1"); shift
done
bench=${KAFKA_BENCH:-$(dirname "$0")/../target/release/streamhouse-kafka-bench}
kafka=29492 http=28492
results=$(mktemp)

# One line per thread: tid, kind, voluntary and involuntary switches, CPU ticks.
threads() {
  for t in /proc/"$1"/task/*; do
    printf '%s %s %s %s %s\n' "${t##*/}" "$(tr ' ' _ <"$t/comm")" \
      "$(awk '/^voluntary_ctxt/{print $2}' "$t/status")" \
      "$(awk '/^nonvoluntary_ctxt/{print $2}' "$t/status")" \
      "$(awk '{print $14 + $15}' "$t/stat")"
  done
}
puts() { curl -fsS "127.0.0.1:$http/metrics" | awk '/^streamhouse_s3_requests_total\{operation="put"\}/{print $2}'; }

run_one() { # binary
  local dir pid
  dir=$(mktemp -d)
  "$1" serve --data-dir "$dir" --kafka-listen 127.0.0.1:$kafka --http-listen 127.0.0.1:$http \
    --log-filter warn >"$dir/agent.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$kafka) 2>/dev/null && break; sleep 0.1; done
  # Warm up (topic creation, leases) outside the measured window.
  "$bench" --bootstrap 127.0.0.1:$kafka e2e --rate 20000 --seconds 3 >/dev/null
  threads "$pid" >"$dir/before"; local p0; p0=$(puts)
  "$bench" --bootstrap 127.0.0.1:$kafka e2e --rate 20000 --seconds 10 >"$dir/e2e"
  threads "$pid" >"$dir/after"; local p1; p1=$(puts)
  kill -TERM "$pid"; wait "$pid" || true
  python3 - "$dir/before" "$dir/after" "$((p1 - p0))" "$(getconf CLK_TCK)" "$1" <<'PY'
import sys
before, after, flushes, hz, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def load(path):
    return {p[0]: (p[1], int(p[2]), int(p[3]), int(p[4])) for p in (l.split() for l in open(path))}
b, a = load(before), load(after)
kinds = {}
for tid, (kind, vol, invol, ticks) in a.items():
    v0, n0, t0 = b[tid][1:] if tid in b else (0, 0, 0)
    kind = "sqlite" if kind.startswith("sqlx-sqlite") else "tokio"
    k = kinds.setdefault(kind, [0, 0, 0])
    k[0] += vol - v0; k[1] += invol - n0; k[2] += ticks - t0
ms = lambda ticks: ticks * 1000 / hz / flushes
total = sum(k[2] for k in kinds.values())
parts = " ".join(f"{kind} {ms(k[2]):.2f} ms ({k[0]/flushes:.1f} vol, {k[1]/flushes:.1f} invol)"
                 for kind, k in sorted(kinds.items()))
print(f"{name}\t{ms(total):.2f}\t{flushes} flushes; CPU per flush {ms(total):.2f} ms: {parts}")
PY
  rm -rf "$dir"
}

for i in $(seq "$runs"); do
  for bin in "${bins[@]}"; do
    line=$(run_one "$bin")
    echo "run $i $line" | cut -f1,3-
    echo "$line" >>"$results"
  done
done
echo "median CPU ms per flush:"
for bin in "${bins[@]}"; do
  awk -F'\t' -v b="$bin" '$1 == b {print $2}' "$results" | sort -n |
    awk -v b="$bin" '{v[NR] = $1} END {m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "  %s: %.2f\n", b, m}'
done
rm -f "$results"
