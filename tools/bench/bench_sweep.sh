#!/usr/bin/env bash
# The local sweep backend's speed-up: the same 20 short trials (sklearn's digits, MLP
# [256, 256], 100 epochs, one thread each: about a second apiece) run by `ablate sweep` with
# -j 1 and with -j 2; prints both wall times and their ratio (goal: >= 1.8x on 2 cores).
# Its peer, in the same run: what the machine itself gives two processes, the same 4 runs
# started by the shell one after another and two at a time (no sweep machinery); the sweep's
# speed-up over that ceiling is the pool's own efficiency. docs/BENCHMARKS.md.
#   tools/bench/bench_sweep.sh [path/to/ablate]     (default: build/framework/ablate)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ablate=${1:-$root/build/framework/ablate}
[[ -x $ablate ]] || { echo "no ablate binary at $ablate (build it, or pass its path)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/bench_sweep.toml" <<'TOML'
[experiment]
name = "bench_sweep"
seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]

[dataset]
plugin = "digits"

[topology]
plugin = "mlp"
hidden = [256, 256]

[train]
epochs = 100
batch_size = 32
threads = 1

[sweep]
mode = "grid"
keys = { "train.lr" = [0.05, 0.1] }
TOML

# The same trial without [sweep], for the shell-run ceiling.
sed '/^seeds = /d; /^\[sweep\]/,$d' "$work/bench_sweep.toml" > "$work/one_trial.toml"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { print b - a }'; }
run_one() { "$ablate" run "$work/one_trial.toml" --set train.lr="$1" --seed "$2" --out "$work/runs" > /dev/null 2>&1; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)   cores: $(nproc)"
start=$(now)
for seed in 1 2 3 4; do run_one 0.05 "$seed"; done
sequential=$(elapsed "$start" "$(now)")
start=$(now)
( run_one 0.05 1; run_one 0.05 2 ) & ( run_one 0.05 3; run_one 0.05 4 ) & wait
paired=$(elapsed "$start" "$(now)")
ceiling=$(awk -v a="$sequential" -v b="$paired" 'BEGIN { print a / b }')
printf "machine: 4 runs one after another %.1f s, two at a time %.1f s: %.2fx for two processes\n" \
  "$sequential" "$paired" "$ceiling"

declare -A seconds
for jobs in 1 2; do
  start=$(date +%s.%N)
  "$ablate" sweep "$work/bench_sweep.toml" -j "$jobs" --out "$work/sweeps-j$jobs" > "$work/j$jobs.log" 2>&1 \
    || { cat "$work/j$jobs.log" >&2; echo "the sweep with -j $jobs failed" >&2; exit 1; }
  end=$(date +%s.%N)
  seconds[$jobs]=$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')
  trials=$(grep -c '^\[[0-9]*/[0-9]*\] .* ok ' "$work/j$jobs.log" || true)
  printf -- "-j %s: %6.1f s wall for %s ok trials\n" "$jobs" "${seconds[$jobs]}" "$trials"
done
speedup=$(awk -v one="${seconds[1]}" -v two="${seconds[2]}" 'BEGIN { print one / two }')
printf "speed-up -j 2 over -j 1: %.2fx (goal >= 1.8x); %.0f%% of the machine's %.2fx\n" \
  "$speedup" "$(awk -v s="$speedup" -v c="$ceiling" 'BEGIN { print 100 * s / c }')" "$ceiling"
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"
