#!/usr/bin/env bash
# Packs the Windows build: the ZIP (CPack) and, from the unpacked ZIP, the MSI (wixl, from
# msitools, a WiX 3 subset for Linux). Prints the two paths. Needs the cross build (run
# scripts/windows-test.sh, or SW_WIN_TARGETS=sessionwatch scripts/windows-test.sh, first).
#
#   scripts/windows-package.sh [BUILD_DIR]       (default build/win)
#   -> BUILD_DIR/sessionwatch-<version>-win64.zip
#      BUILD_DIR/sessionwatch-<version>-win64.msi
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-${SW_WIN_BUILD_DIR:-build/win}}
[ -f "$build/CPackConfig.cmake" ] || { echo "windows-package.sh: no cross build in $build" >&2; exit 1; }
command -v wixl >/dev/null || scripts/deps.sh windows

rm -f "$build"/sessionwatch-*-win64.zip "$build"/sessionwatch-*-win64.msi
if ! (cd "$build" && cpack -G ZIP) >"$build/cpack.log" 2>&1; then
  tail -20 "$build/cpack.log" >&2
  exit 1
fi
zip=$(realpath "$build"/sessionwatch-*-win64.zip)
base=$(basename "$zip" .zip)
version=${base#sessionwatch-}
version=${version%-win64}

# From the ZIP itself, so the MSI holds exactly what the ZIP ships.
tree=$(mktemp -d /tmp/sw-msi-tree.XXXXXX)
trap 'rm -rf "$tree"' EXIT
unzip -q "$zip" -d "$tree"
msi=$(realpath "$build")/$base.msi
# wixl resolves File/@Source relative to the working directory only (absolute paths fail), so
# SourceDir is "." from the package root. Wixl=1 selects the wixl equivalents in the .wxs.
if ! (cd "$tree/$base" && wixl -a x64 -D Wixl=1 -D "Version=$version" -D SourceDir=. \
  -o "$msi" msi/sessionwatch.wxs) >"$build/wixl.log" 2>&1; then
  grep -v 'has no property named' "$build/wixl.log" | grep -v '^$' >&2
  exit 1
fi
echo "$zip"
echo "$msi"
