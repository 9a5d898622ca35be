#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz, docs/FUZZING.md): tools/fuzz.sh [SECONDS] [TARGET...]
# Configures and builds the `fuzz` preset (clang-14) when needed, then runs each target (all by
# default) for SECONDS (10) on a fresh temporary corpus, with the repo's seed corpus
# tests/fuzz/corpus/<target>/ as a second, read-only directory (new inputs never land in the
# repo). One line per target: executions, exec/s, cov, ft. Exits 1 on a crash, naming the input.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-10}
[[ $# -gt 0 ]] && shift
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for src in "$root"/tests/fuzz/fuzz_*.cpp; do
    name=$(basename "$src" .cpp)
    targets+=("${name#fuzz_}")
  done
fi
cd "$root"
# libFuzzer comes with Debian's clang-14 and its runtime libraries.
if ! command -v clang++-14 >/dev/null || ! compgen -G "/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    clang-14 libclang-rt-14-dev >/dev/null
fi
if [[ ! -f build-fuzz/build.ninja ]]; then cmake --preset fuzz >/dev/null; fi
cmake --build --preset fuzz -j"${FUZZ_JOBS:-2}" >/dev/null
work=$(mktemp -d /tmp/ablate-fuzz.XXXXXX)
failed=0
for t in "${targets[@]}"; do
  exe=build-fuzz/tests/fuzz/fuzz_$t
  [[ -x $exe ]] || { echo "fuzz.sh: no target $t ($exe)" >&2; exit 2; }
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  log=$work/$t/log
  rc=0
  started=$SECONDS
  "$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$work/$t/artifacts/" "$work/$t/corpus" "tests/fuzz/corpus/$t" \
    >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  ran=$((SECONDS - started))
  printf '%-12s %6ss  execs %-10s exec/s %-7s cov %-6s ft %-6s' "$t" "$ran" "${execs:-?}" \
    "${speed:-?}" "${cov:-?}" "${ft:-?}"
  if [[ $rc -ne 0 ]]; then
    crash=$(ls "$work/$t/artifacts/"* 2>/dev/null | head -1 || true)
    echo " CRASH (exit $rc): ${crash:-no artifact}; log $log"
    grep -m3 -E 'ERROR|SUMMARY|runtime error' "$log" | sed 's/^/    /' || true
    failed=1
  else
    echo " ok"
  fi
done
if [[ $failed -eq 0 ]]; then rm -rf "$work"; else echo "fuzz.sh: kept $work" >&2; fi
exit $failed
