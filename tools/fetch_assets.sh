#!/usr/bin/env bash
# Offline assets for the built book: everything a page loads comes from the book, not from a CDN.
#
#   tools/fetch_assets.sh            MathJax 3, the Jupyter widget manager and RequireJS -> _assets/
#   tools/fetch_assets.sh slides     the same, plus reveal.js -> _assets-slides/ (for `make slides`)
#
# The packages come from the npm registry (`npm pack`, pinned versions) and are cached in
# vendor-cache/, so a second run needs no network. _assets/ is a Sphinx `html_static_path` entry
# (copied to _build/html/_static/); it is deliberately not a folder named `_static`, because Jupyter
# Book would then add every .js file in it to every page.
set -euo pipefail
cd "$(dirname "$0")/.."

MATHJAX=3.2.2            # mathjax_path in _config.yml
HTML_MANAGER=1.0.15      # @jupyter-widgets/html-manager 1.0.x renders ipywidgets 8 state
REQUIREJS=2.3.8          # AMD loader the widget manager needs
REVEAL=5.2.1             # slides only

cache=vendor-cache
mkdir -p "$cache"

# pack NAME VERSION -> path of the cached tarball (downloads it once)
pack() {
  local name=$1 version=$2 file
  file="$cache/$(echo "${name#@}" | tr / -)-$version.tgz"
  if [ ! -f "$file" ]; then
    command -v npm >/dev/null || { echo "npm is needed once to fetch $name (apt-get install npm)" >&2; exit 1; }
    (cd "$cache" && npm pack --silent "$name@$version" >/dev/null 2>&1) \
      || { echo "npm pack $name@$version failed (is the npm registry reachable?)" >&2; exit 1; }
  fi
  echo "$file"
}

# unpack TARBALL -> a fresh temporary directory holding package/
unpack() {
  local dir
  dir=$(mktemp -d "$cache/unpack.XXXXXX")
  tar xzf "$1" -C "$dir"
  echo "$dir/package"
}

fetch_mathjax() {  # $1 = target folder
  local target=$1/mathjax src tgz
  [ -f "$target/.version-$MATHJAX" ] && return 0
  tgz=$(pack mathjax "$MATHJAX")
  src=$(unpack "$tgz")/es5
  rm -rf "$target"
  mkdir -p "$target/output/chtml/fonts" "$target/input/tex"
  # what the CommonHTML build loads: the combined script, its woff2 fonts, TeX extensions loaded on
  # demand (\require, autoload), and the menu / accessibility components it may request
  cp "$src/tex-mml-chtml.js" "$target/"
  cp -r "$src/output/chtml/fonts/woff-v2" "$target/output/chtml/fonts/"
  cp -r "$src/input/tex/extensions" "$target/input/tex/"
  cp -r "$src/a11y" "$src/ui" "$src/sre" "$target/"
  rm -rf "$(dirname "$(dirname "$src")")"
  touch "$target/.version-$MATHJAX"
  echo "MathJax $MATHJAX -> $target ($(du -sh "$target" | cut -f1))"
}

fetch_widgets() {  # $1 = target folder
  local target=$1/widgets src tgz
  [ -f "$target/.version-$HTML_MANAGER" ] && return 0
  tgz=$(pack @jupyter-widgets/html-manager "$HTML_MANAGER")
  src=$(unpack "$tgz")/dist
  rm -rf "$target"
  mkdir -p "$target"
  # embed-amd.js finds its icon fonts next to itself; browsers take woff2, older ones woff
  cp "$src/embed-amd.js" "$src/embed.js.LICENSE.txt" "$target/"
  cp "$src"/*.woff2 "$src"/*.woff "$target/"
  rm -rf "$(dirname "$(dirname "$src")")"
  touch "$target/.version-$HTML_MANAGER"
  echo "widget manager $HTML_MANAGER -> $target ($(du -sh "$target" | cut -f1))"
}

fetch_requirejs() {  # $1 = target folder
  local target=$1/requirejs src tgz
  [ -f "$target/.version-$REQUIREJS" ] && return 0
  tgz=$(pack requirejs "$REQUIREJS")
  src=$(unpack "$tgz")
  rm -rf "$target"
  mkdir -p "$target"
  cp "$src/require.js" "$target/"
  rm -rf "$(dirname "$src")"
  touch "$target/.version-$REQUIREJS"
  echo "RequireJS $REQUIREJS -> $target"
}

fetch_reveal() {  # $1 = target folder
  local target=$1/reveal.js src tgz
  [ -f "$target/.version-$REVEAL" ] && return 0
  tgz=$(pack reveal.js "$REVEAL")
  src=$(unpack "$tgz")
  rm -rf "$target"
  mkdir -p "$target/plugin"
  cp -r "$src/dist" "$target/"
  rm -f "$target"/dist/*.map "$target"/dist/*.esm.js
  cp -r "$src/plugin/notes" "$target/plugin/"
  cp "$src/LICENSE" "$target/" 2>/dev/null || true
  rm -rf "$(dirname "$src")"
  touch "$target/.version-$REVEAL"
  echo "reveal.js $REVEAL -> $target ($(du -sh "$target" | cut -f1))"
}

case "${1:-book}" in
  book)
    fetch_mathjax _assets
    fetch_widgets _assets
    fetch_requirejs _assets
    ;;
  slides)
    fetch_mathjax _assets-slides
    fetch_requirejs _assets-slides
    fetch_reveal _assets-slides
    ;;
  *)
    echo "usage: $0 [book|slides]" >&2
    exit 2
    ;;
esac
