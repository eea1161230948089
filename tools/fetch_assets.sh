#!/usr/bin/env bash
# Put MathJax 3 into _assets/mathjax so the built book renders math with no network.
# The package comes from the npm registry (npm pack), cached in vendor-cache/.
set -euo pipefail
cd "$(dirname "$0")/.."
version=3.2.2
target=_assets/mathjax
if [ -f "$target/tex-mml-chtml.js" ] && [ -f "$target/.version-$version" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "npm is needed to fetch MathJax (apt-get install npm)" >&2; exit 1; }
mkdir -p vendor-cache
tgz="vendor-cache/mathjax-$version.tgz"
if [ ! -f "$tgz" ]; then
  (cd vendor-cache && npm pack --silent "mathjax@$version" >/dev/null)
fi
rm -rf "$target" vendor-cache/unpack
mkdir -p vendor-cache/unpack "$target"
tar xzf "$tgz" -C vendor-cache/unpack
src=vendor-cache/unpack/package/es5
# only what the CommonHTML build loads: the combined script, its fonts, TeX extensions loaded on
# demand, and the accessibility/menu components it may request
cp "$src/tex-mml-chtml.js" "$target/"
mkdir -p "$target/output/chtml/fonts" "$target/input/tex"
cp -r "$src/output/chtml/fonts/woff-v2" "$target/output/chtml/fonts/"
cp -r "$src/input/tex/extensions" "$target/input/tex/"
cp -r "$src/a11y" "$src/ui" "$src/sre" "$target/"
touch "$target/.version-$version"
rm -rf vendor-cache/unpack
echo "MathJax $version -> $target ($(du -sh "$target" | cut -f1))"
