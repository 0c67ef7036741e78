#!/usr/bin/env bash
# Installs what sessionwatch needs from Debian's packages, idempotently: packages already present
# are not touched and `apt-get update` runs only when something is missing.
#   scripts/deps.sh build          compilers and libraries for the native build
#   scripts/deps.sh test           + what the test suite runs against (rsyslog, libevtx tools, ...)
#                                  and the clang of the sanitizer and fuzz builds
#   scripts/deps.sh fuzz           + clang with its sanitizer and libFuzzer runtimes
#   scripts/deps.sh windows        + the mingw-w64 cross compiler, wine and wixl/msitools (MSI)
#   scripts/deps.sh package        build + lintian, rpm, debootstrap (scripts/package*.sh)
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build ccache pkg-config git ca-certificates
  libspdlog-dev libfmt-dev libboost-dev libboost-system-dev nlohmann-json3-dev libyaml-cpp-dev
  libre2-dev libpugixml-dev libsimdjson-dev libevtx-dev libbfio-dev libssl-dev zlib1g-dev librelp-dev
  libsystemd-dev libgtest-dev libgmock-dev libbenchmark-dev librdkafka-dev
)
test_pkgs=(
  rsyslog rsyslog-relp rsyslog-gnutls gnutls-bin openssl libevtx-utils python3 procps
  iproute2 clang-format chromium jq strace
  gdb  # an agent that does not exit in time has its threads' stacks printed (agent_process.hpp)
  prometheus  # promtool checks the /metrics exposition
)
package_pkgs=(lintian rpm debootstrap fakeroot dpkg-dev)
# clang (Debian 12: clang 14), its runtimes (ASan, UBSan, TSan, libFuzzer; only recommended by
# clang, so named here) and llvm for llvm-symbolizer (sanitizer reports with file and line).
fuzz_pkgs=(clang libclang-rt-14-dev llvm)
windows_pkgs=(
  g++-mingw-w64-x86-64-posix gcc-mingw-w64-x86-64-posix mingw-w64-tools wine wine64 dpkg-dev
  unicode-data perl python3 unzip wixl msitools
)

want=()
for group in "${@:-build}"; do
  case "$group" in
    build) want+=("${build_pkgs[@]}") ;;
    test) want+=("${build_pkgs[@]}" "${test_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
    fuzz) want+=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
    windows) want+=("${windows_pkgs[@]}") ;;
    package) want+=("${build_pkgs[@]}" "${package_pkgs[@]}") ;;
    *) echo "deps.sh: unknown group '$group' (build | test | fuzz | windows | package)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
