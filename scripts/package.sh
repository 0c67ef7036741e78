#!/usr/bin/env bash
# Builds the Linux packages from the Release build (build/release, shared with scripts/demo.sh):
#   build/pkg/sessionwatch_<version>_<arch>.deb, and build/pkg/sessionwatch-<version>-1.<arch>.rpm
#   where Debian's rpm package (rpmbuild) is installed.
# Then checks the .deb with lintian (no errors or warnings; overrides in
# packaging/debian/lintian-overrides). Install it with: apt-get install ./build/pkg/sessionwatch_*.deb
#   SW_PACKAGE_VERSION=0.1.1   the version to write into the packages (default: the project's)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh package
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/sessionwatch-ccache}
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
project_version=$(sed -n 's/^project(sessionwatch VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
version=${SW_PACKAGE_VERSION:-$project_version}

cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSW_BUILD_TESTS=OFF \
  -DSW_PACKAGE_VERSION="$version" >/dev/null
cmake --build build/release -j"${SW_JOBS:-2}" --target sessionwatch sessionwatch_manpage >&2
rm -rf build/release/cpack
(cd build/release && cpack -C Release >&2)
mkdir -p build/pkg
rm -f build/pkg/sessionwatch_"$version"_*.deb build/pkg/sessionwatch-"$version"-*.rpm
mv build/release/cpack/*.deb build/pkg/
if ls build/release/cpack/*.rpm >/dev/null 2>&1; then mv build/release/cpack/*.rpm build/pkg/; fi
deb=$(ls build/pkg/sessionwatch_"$version"_*.deb)
# lintian: errors and warnings fail the build (it exits non-zero on errors only).
lintian_out=$(lintian --fail-on error,warning "$deb" 2>&1) || { echo "$lintian_out" >&2; echo "package.sh: lintian refuses $deb" >&2; exit 1; }
[ -z "$lintian_out" ] || echo "$lintian_out" >&2
ls -1 build/pkg/*"$version"*
