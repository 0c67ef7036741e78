#!/usr/bin/env bash
# Builds the libraries sessionwatch needs for the Windows cross build (mingw-w64, x86_64, posix
# threads, static) from Debian's own source packages, at exactly the versions installed natively,
# and assembles them into one prefix the toolchain file points at.
#
#   scripts/build-win-deps.sh            build what is missing, print the prefix on stdout
#
# Each library is built once per (Debian source version, cross compiler version) into
#   $SW_WIN_DEPS_CACHE/<name>-<debian version>-<compiler>/
# so re-runs cost a few seconds. Header-only libraries (Boost, nlohmann_json) are symlinked, not
# rebuilt: only their header folders, never /usr/include as a whole.
#
# Environment:
#   SW_WIN_DEPS_CACHE   cache folder (default $HOME/.cache/sessionwatch-win-deps)
#   SW_JOBS             parallel jobs (default 2); builds run under `nice -n 10`
#   SW_WIN_OPENSSL=0    skip OpenSSL (the slowest build); TLS code then is left out on Windows
set -euo pipefail

cache=${SW_WIN_DEPS_CACHE:-$HOME/.cache/sessionwatch-win-deps}
jobs=${SW_JOBS:-2}
triple=x86_64-w64-mingw32
cc=$triple-gcc-posix
cxx=$triple-g++-posix
toolchain=$(cd "$(dirname "$0")/.." && pwd)/cmake/toolchain-mingw64.cmake
log() { echo "build-win-deps: $*" >&2; }

command -v "$cxx" >/dev/null || { log "$cxx missing; run scripts/deps.sh windows"; exit 1; }
compiler_key="mingw$("$cxx" -dumpfullversion 2>/dev/null || "$cxx" -dumpversion)"
compiler_key=${compiler_key//[^A-Za-z0-9.]/}
mkdir -p "$cache/src" "$cache/build"

# The Debian source version of the natively installed binary package: the cross build must use
# the same library versions as the Linux build, so both decode and match identically.
source_version() {
  dpkg-query -W -f='${source:Version}' "$1" 2>/dev/null ||
    { log "native package $1 is not installed (scripts/deps.sh build)"; exit 1; }
}

# deb-src entries mirroring the archive the machine already uses, in a file of our own.
ensure_deb_src() {
  local list=/etc/apt/sources.list.d/sessionwatch-deb-src.sources
  [ -f "$list" ] && return 0
  log "adding deb-src entries in $list"
  local tmp
  tmp=$(mktemp)
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed -E 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$tmp"
  elif [ -f /etc/apt/sources.list ]; then
    # One-line format: convert to deb822 stanzas.
    grep -E '^deb ' /etc/apt/sources.list | while read -r _ uri suite components; do
      printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n\n' "$uri" "$suite" "$components"
    done >"$tmp"
  fi
  [ -s "$tmp" ] || { log "found no Debian archive in /etc/apt/sources.list*"; rm -f "$tmp"; exit 1; }
  install -m 0644 "$tmp" "$list"
  rm -f "$tmp"
  apt-get update -q >&2
}

# Unpacks `apt-get source pkg=version` (Debian patches applied) once; prints the source folder.
fetch_source() {
  local pkg=$1 version=$2 dir="$cache/src/$1-${2//:/_}"
  if [ ! -f "$dir/.unpacked" ]; then
    ensure_deb_src
    rm -rf "$dir"
    mkdir -p "$dir"
    log "apt-get source $pkg=$version"
    if ! (cd "$dir" && apt-get source -q -o APT::Sandbox::User=root "$pkg=$version" >&2) ||
      [ -z "$(find "$dir" -mindepth 1 -maxdepth 1 -type d)" ]; then
      rm -rf "$dir"
      return 1
    fi
    touch "$dir/.unpacked"
  fi
  find "$dir" -mindepth 1 -maxdepth 1 -type d | head -1
}

# The source version to build for a native package: the installed one when the archive still
# serves its source, else the newest source version it does serve (security updates sometimes
# reach the binary index before the source pool of a mirror). Says so when it differs.
buildable_version() {
  local native=$1 src_pkg=$2 installed candidate
  installed=$(source_version "$native")
  if fetch_source "$src_pkg" "$installed" >/dev/null 2>&1; then
    echo "$installed"
    return 0
  fi
  for candidate in $(apt-cache showsrc "$src_pkg" | sed -n 's/^Version: //p' | sort -rV); do
    [ "$candidate" = "$installed" ] && continue
    if fetch_source "$src_pkg" "$candidate" >/dev/null 2>&1; then
      log "WARNING: the source of $src_pkg $installed is not in the archive; using $candidate"
      echo "$candidate"
      return 0
    fi
  done
  log "no source version of $src_pkg could be fetched"
  return 1
}

# cmake_build NAME SRC DEST [cmake args...]: static release build installed into DEST.
cmake_build() {
  local name=$1 src=$2 dest=$3
  shift 3
  local build="$cache/build/$name"
  rm -rf "$build"
  nice -n 10 cmake -S "$src" -B "$build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
    -DSW_WIN_DEPS_PREFIX="$cache/prefix" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DCMAKE_INSTALL_PREFIX="$dest" -DCMAKE_INSTALL_LIBDIR=lib "$@" >"$build.log" 2>&1 ||
    { tail -30 "$build.log" >&2; return 1; }
  nice -n 10 cmake --build "$build" -j"$jobs" >>"$build.log" 2>&1 &&
    cmake --install "$build" >>"$build.log" 2>&1 ||
    { tail -30 "$build.log" >&2; return 1; }
  rm -rf "$build"
}

# dep NAME NATIVE_PKG BUILD_FUNCTION: builds into the versioned cache folder unless it is there.
built=()
dep() {
  local name=$1 native=$2 fn=$3 version dest
  version=$(source_version "$native")
  # A library whose installed source is gone from the archive is built from the nearest one.
  if [ "${4:-}" = fallback ] && [ ! -f "$cache/.resolved-$name-${version//:/_}" ]; then
    local resolved
    resolved=$(buildable_version "$native" "$5") || exit 1
    echo "$resolved" >"$cache/.resolved-$name-${version//:/_}"
  fi
  [ -f "$cache/.resolved-$name-${version//:/_}" ] && version=$(cat "$cache/.resolved-$name-${version//:/_}")
  dest="$cache/$name-${version//:/_}-$compiler_key"
  if [ ! -f "$dest/.complete" ]; then
    log "building $name $version for Windows (cold cache; this runs once)"
    local started=$SECONDS
    rm -rf "$dest"
    "$fn" "$version" "$dest"
    touch "$dest/.complete"
    log "$name done in $((SECONDS - started))s"
  fi
  built+=("$dest")
  # Later builds (spdlog needs fmt) find earlier ones through the assembled prefix.
  assemble_prefix
}

# One prefix of symlinks over every built library, recreated each run (cheap).
assemble_prefix() {
  local prefix="$cache/prefix"
  rm -rf "$prefix"
  mkdir -p "$prefix/include"
  # Header-only: just these header folders of the native packages.
  ln -s /usr/include/boost "$prefix/include/boost"
  local d entry
  for d in "${built[@]}"; do
    for entry in "$d"/*; do
      cp -rs "$entry" "$prefix/"
    done
  done
}

build_googletest() {
  # libgtest-dev ships the sources; no apt-get source needed.
  cmake_build googletest /usr/src/googletest "$2" -DINSTALL_GTEST=ON -DBUILD_GMOCK=ON
}
build_fmt() {
  cmake_build fmt "$(fetch_source fmtlib "$1")" "$2" -DFMT_TEST=OFF -DFMT_DOC=OFF
}
build_spdlog() {
  cmake_build spdlog "$(fetch_source spdlog "$1")" "$2" -DSPDLOG_FMT_EXTERNAL=ON \
    -DSPDLOG_BUILD_EXAMPLE=OFF -DSPDLOG_BUILD_TESTS=OFF -DSPDLOG_BUILD_BENCH=OFF
}
build_nlohmann_json() {
  cmake_build nlohmann_json "$(fetch_source nlohmann-json3 "$1")" "$2" -DJSON_BuildTests=OFF \
    -DJSON_Install=ON
}
build_yaml_cpp() {
  cmake_build yaml-cpp "$(fetch_source yaml-cpp "$1")" "$2" -DYAML_CPP_BUILD_TESTS=OFF \
    -DYAML_CPP_BUILD_TOOLS=OFF -DYAML_CPP_BUILD_CONTRIB=OFF -DYAML_BUILD_SHARED_LIBS=OFF
}
build_re2() {
  local src
  src=$(fetch_source re2 "$1")
  # Debian strips the generated tables from the source and regenerates them at build time
  # (REBUILD_TABLES=1) from the unicode-data package; do the same.
  local table
  for table in perl_groups unicode_casefold unicode_groups; do
    [ -s "$src/re2/$table.cc" ] && continue
    if [ "$table" = perl_groups ]; then
      (cd "$src" && perl re2/make_perl_groups.pl >re2/$table.cc.tmp)
    else
      (cd "$src" && python3 "re2/make_$table.py" >re2/$table.cc.tmp)
    fi
    mv "$src/re2/$table.cc.tmp" "$src/re2/$table.cc"
  done
  cmake_build re2 "$src" "$2" -DRE2_BUILD_TESTING=OFF
  # The CMake build of this RE2 release installs no pkg-config file; the native build finds RE2
  # through one, so write the same.
  if [ ! -f "$2/lib/pkgconfig/re2.pc" ]; then
    mkdir -p "$2/lib/pkgconfig"
    printf 'prefix=%s\nincludedir=${prefix}/include\nlibdir=${prefix}/lib\n\nName: re2\nDescription: RE2 is a fast, safe, thread-friendly regular expression engine.\nVersion: %s\nCflags: -I${includedir}\nLibs: -L${libdir} -lre2\nLibs.private: -lpthread\n' \
      "$2" "${1%%+*}" >"$2/lib/pkgconfig/re2.pc"
  fi
}
build_pugixml() {
  cmake_build pugixml "$(fetch_source pugixml "$1")" "$2" -DPUGIXML_BUILD_TESTS=OFF
}
build_simdjson() {
  cmake_build simdjson "$(fetch_source simdjson "$1")" "$2" -DSIMDJSON_DEVELOPER_MODE=OFF \
    -DSIMDJSON_ENABLE_THREADS=ON
}
build_zlib() {
  local src build="$cache/build/zlib"
  src=$(fetch_source zlib "$1")
  rm -rf "$build"
  # Only the static library, installed as the libz.a that FindZLIB looks for.
  nice -n 10 cmake -S "$src" -B "$build" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
    -DSW_WIN_DEPS_PREFIX="$cache/prefix" -DCMAKE_BUILD_TYPE=Release >"$build.log" 2>&1 &&
    nice -n 10 cmake --build "$build" -j"$jobs" --target zlibstatic >>"$build.log" 2>&1 ||
    { tail -30 "$build.log" >&2; return 1; }
  mkdir -p "$2/include" "$2/lib"
  cp "$src/zlib.h" "$build/zconf.h" "$2/include/"
  cp "$build/libzlibstatic.a" "$2/lib/libz.a"
  rm -rf "$build"
}
build_openssl() {
  local src build="$cache/build/openssl"
  src=$(fetch_source openssl "$1")
  rm -rf "$build" && cp -r "$src" "$build"
  (cd "$build" &&
    CC=$cc CXX=$cxx AR=$triple-ar RANLIB=$triple-ranlib RC=$triple-windres \
      nice -n 10 ./Configure mingw64 no-shared no-tests no-module \
      --prefix="$2" --libdir=lib --openssldir="$2/ssl" >"$build.log" 2>&1 &&
    nice -n 10 make -j"$jobs" build_libs >>"$build.log" 2>&1 &&
    make install_dev >>"$build.log" 2>&1) || { tail -30 "$build.log" >&2; return 1; }
  rm -rf "$build"
}

# Order matters where one library is built against another (spdlog against fmt).
dep googletest googletest build_googletest
dep fmt libfmt-dev build_fmt
dep spdlog libspdlog-dev build_spdlog
dep nlohmann_json nlohmann-json3-dev build_nlohmann_json
dep yaml-cpp libyaml-cpp-dev build_yaml_cpp
dep re2 libre2-dev build_re2
dep pugixml libpugixml-dev build_pugixml
dep simdjson libsimdjson-dev build_simdjson
dep zlib zlib1g-dev build_zlib
if [ "${SW_WIN_OPENSSL:-1}" != 0 ]; then
  dep openssl libssl-dev build_openssl fallback openssl
fi

echo "$cache/prefix"
