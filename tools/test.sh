#!/usr/bin/env bash
# From a fresh Debian 12 machine: install, build, and run the whole test suite through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
ctest --test-dir build --output-on-failure -j 2 "$@"
