#!/usr/bin/env bash
# From a fresh Debian 12 machine: install, build, and train the quickstart experiment
# (an MLP on the real Fashion-MNIST). The run directory is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
./build/framework/ablate run experiments/quickstart.toml "$@"
