#!/usr/bin/env bash
# Compares two `streamhouse` binaries on the produce scenario (a): 2,000,000 × 100 B to 6
# partitions, acks=all, linger 5 ms, with librdkafka (streamhouse-kafka-bench). Runs are
# interleaved A B A B ... so machine noise hits both alike; each run starts a fresh
# embedded agent. Prints every run (records/s, and the agent's CPU seconds during the
# produce run, start-up excluded; its minor page faults; its flushes; the CPU time the
# hypervisor stole from this machine meanwhile, in seconds, which marks the noisy runs) and
# the medians with the B/A ratio.
#
#   scripts/bench-ab.sh OLD_BIN NEW_BIN [RUNS]   (kafka-bench: $KAFKA_BENCH or target/release)
#
# Optional environment: A_ARGS / B_ARGS, more `serve` flags for one side (the same binary
# twice with A_ARGS=--engine-flush-interval=20ms compares a setting); PRODUCE_ARGS replaces
# the produce flags (PRODUCE_ARGS='--records 200000 --record-size 1024' is scenario (b)).
set -euo pipefail
a=$1 b=$2 runs=${3:-5}
bench=${KAFKA_BENCH:-$(dirname "$0")/../target/release/streamhouse-kafka-bench}
port=29392 http_port=29393
results=$(mktemp)
# Every run's data directory is deleted only at the end: on ext4 without a journal (seen on
# benchmark VMs), creating a file skips, one by one, every inode freed in the last minute or
# more, so deleting one run's objects made the next run's PUTs dearer.
dirs=()
trap 'rm -rf "${dirs[@]}" "$results"' EXIT
produce_args=${PRODUCE_ARGS:---records 2000000 --record-size 100}

# utime + stime of a process, in seconds; its minor page faults.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
flt_of() { awk '{print $10}' "/proc/$1/stat"; }
# Steal time of the whole machine, in ticks.
steal_now() { awk '$1=="cpu" {print $9}' /proc/stat; }

run_one() { # label binary [serve flags]
  local dir pid out rate cpu cpu0 flt0 flt flushes steal0 steal
  dir=$(mktemp -d)
  dirs+=("$dir")
  # shellcheck disable=SC2086 # the extra flags are meant to split
  "$2" serve --data-dir "$dir" --kafka-listen 127.0.0.1:$port --http-listen 127.0.0.1:$http_port \
    --log-filter warn ${3:-} >"$dir/agent.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  cpu0=$(cpu_of "$pid") flt0=$(flt_of "$pid") steal0=$(steal_now)
  # shellcheck disable=SC2086
  out=$("$bench" --bootstrap 127.0.0.1:$port produce $produce_args)
  grep -q '; 0 failed' <<<"$out" || { echo "records failed: $out" >&2; exit 1; }
  rate=$(grep -oE '[0-9]+ records/s' <<<"$out" | head -1 | cut -d' ' -f1)
  cpu=$(echo "$(cpu_of "$pid") - $cpu0" | bc -l)
  flt=$(($(flt_of "$pid") - flt0))
  steal=$(echo "($(steal_now) - $steal0) / $(getconf CLK_TCK)" | bc -l)
  flushes=$(curl -s "http://127.0.0.1:$http_port/metrics" |
    awk '/^streamhouse_segment_flushes_total\{.*outcome="ok"/ {print $2}')
  kill -TERM "$pid"; wait "$pid" || true
  printf '%s %s %s %s %s %.2f\n' "$1" "$rate" "$cpu" "$flt" "${flushes:-?}" "$steal" |
    tee -a "$results"
}

for i in $(seq "$runs"); do
  run_one A "$a" "${A_ARGS:-}"
  run_one B "$b" "${B_ARGS:-}"
done

# Plain decimals (awk's default %.6g turns 1539018 into 1.53902e+06, which bc refuses).
median() { sort -n | awk '{v[NR]=$1} END {printf "%.4f\n", (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
ra=$(awk '$1=="A"{print $2}' "$results" | median); rb=$(awk '$1=="B"{print $2}' "$results" | median)
ca=$(awk '$1=="A"{print $3}' "$results" | median); cb=$(awk '$1=="B"{print $3}' "$results" | median)
printf '\nmedian records/s: A %s  B %s  B/A %.3f\n' "$ra" "$rb" "$(echo "$rb / $ra" | bc -l)"
printf 'median agent CPU s per run: A %s  B %s  B/A %.3f\n' "$ca" "$cb" "$(echo "$cb / $ca" | bc -l)"
# The machine's speed drifts between pairs more than within one: B/A pair by pair.
pair_ratio() { awk -v col="$1" '$1=="A"{a=$col} $1=="B"{print $col / a}' "$results" | median; }
printf 'median of per-pair B/A: records/s %.3f  agent CPU %.3f\n' "$(pair_ratio 2)" "$(pair_ratio 3)"
fa=$(awk '$1=="A"{print $4}' "$results" | median); fb=$(awk '$1=="B"{print $4}' "$results" | median)
printf 'median agent minor faults per run: A %s  B %s  B/A %.3f\n' "$fa" "$fb" "$(echo "$fb / $fa" | bc -l)"
la=$(awk '$1=="A"{print $5}' "$results" | median); lb=$(awk '$1=="B"{print $5}' "$results" | median)
printf 'median flushes per agent: A %s  B %s\n' "$la" "$lb"
