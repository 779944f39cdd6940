#!/usr/bin/env bash
# Compares two `streamhouse` binaries on the produce scenario (a): 2,000,000 × 100 B to 6
# partitions, acks=all, linger 5 ms, with librdkafka (streamhouse-kafka-bench). Runs are
# interleaved A B A B ... so machine noise hits both alike; each run starts a fresh
# embedded agent. Prints every run (records/s, and the agent's CPU seconds during the
# produce run, start-up excluded; its minor page faults) and the medians with the B/A
# ratio.
#
#   scripts/bench-ab.sh OLD_BIN NEW_BIN [RUNS]   (kafka-bench: $KAFKA_BENCH or target/release)
set -euo pipefail
a=$1 b=$2 runs=${3:-5}
bench=${KAFKA_BENCH:-$(dirname "$0")/../target/release/streamhouse-kafka-bench}
port=29392
results=$(mktemp)

# utime + stime of a process, in seconds; its minor page faults.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
flt_of() { awk '{print $10}' "/proc/$1/stat"; }

run_one() { # label binary
  local dir pid out rate cpu cpu0 flt0 flt
  dir=$(mktemp -d)
  "$2" serve --data-dir "$dir" --kafka-listen 127.0.0.1:$port --http-listen 127.0.0.1:0 \
    --log-filter warn >"$dir/agent.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  cpu0=$(cpu_of "$pid") flt0=$(flt_of "$pid")
  out=$("$bench" --bootstrap 127.0.0.1:$port produce --records 2000000 --record-size 100)
  grep -q '; 0 failed' <<<"$out" || { echo "records failed: $out" >&2; exit 1; }
  rate=$(grep -oE '[0-9]+ records/s' <<<"$out" | head -1 | cut -d' ' -f1)
  cpu=$(echo "$(cpu_of "$pid") - $cpu0" | bc -l)
  flt=$(($(flt_of "$pid") - flt0))
  kill -TERM "$pid"; wait "$pid" || true
  rm -rf "$dir"
  echo "$1 $rate $cpu $flt" | tee -a "$results"
}

for i in $(seq "$runs"); do
  run_one A "$a"
  run_one B "$b"
done

# Plain decimals (awk's default %.6g turns 1539018 into 1.53902e+06, which bc refuses).
median() { sort -n | awk '{v[NR]=$1} END {printf "%.4f\n", (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
ra=$(awk '$1=="A"{print $2}' "$results" | median); rb=$(awk '$1=="B"{print $2}' "$results" | median)
ca=$(awk '$1=="A"{print $3}' "$results" | median); cb=$(awk '$1=="B"{print $3}' "$results" | median)
printf '\nmedian records/s: A %s  B %s  B/A %.3f\n' "$ra" "$rb" "$(echo "$rb / $ra" | bc -l)"
printf 'median agent CPU s per run: A %s  B %s  B/A %.3f\n' "$ca" "$cb" "$(echo "$cb / $ca" | bc -l)"
fa=$(awk '$1=="A"{print $4}' "$results" | median); fb=$(awk '$1=="B"{print $4}' "$results" | median)
printf 'median agent minor faults per run: A %s  B %s  B/A %.3f\n' "$fa" "$fb" "$(echo "$fb / $fa" | bc -l)"
rm -f "$results"
