# Cross build for Windows x64 with Debian's mingw-w64 (posix thread model: std::thread and
# std::mutex need winpthreads), statically linked so sessionwatch.exe needs no DLL beside it.
#
#   cmake -S . -B build/win -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-mingw64.cmake \
#         -DSW_WIN_DEPS_PREFIX=$(scripts/build-win-deps.sh)
#
# Libraries are found ONLY in SW_WIN_DEPS_PREFIX (Debian source packages built for Windows by
# scripts/build-win-deps.sh) and the mingw-w64 sysroot, never in the native /usr.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(SW_MINGW_TRIPLE x86_64-w64-mingw32)

set(CMAKE_C_COMPILER ${SW_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${SW_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${SW_MINGW_TRIPLE}-windres)
set(CMAKE_AR ${SW_MINGW_TRIPLE}-gcc-ar-posix CACHE FILEPATH "")
set(CMAKE_RANLIB ${SW_MINGW_TRIPLE}-gcc-ranlib-posix CACHE FILEPATH "")

if(NOT SW_WIN_DEPS_PREFIX AND DEFINED ENV{SW_WIN_DEPS_PREFIX})
  set(SW_WIN_DEPS_PREFIX "$ENV{SW_WIN_DEPS_PREFIX}")
endif()
if(NOT SW_WIN_DEPS_PREFIX)
  set(SW_WIN_DEPS_PREFIX "$ENV{HOME}/.cache/sessionwatch-win-deps/prefix")
endif()
set(SW_WIN_DEPS_PREFIX "${SW_WIN_DEPS_PREFIX}" CACHE PATH "Windows builds of the dependencies")
# try_compile projects re-read this file; hand them the prefix too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SW_WIN_DEPS_PREFIX)

set(CMAKE_FIND_ROOT_PATH /usr/${SW_MINGW_TRIPLE} ${SW_WIN_DEPS_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (RE2) must read the Windows .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} "${SW_WIN_DEPS_PREFIX}/lib/pkgconfig:${SW_WIN_DEPS_PREFIX}/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# Header-only Boost from the prefix's link to the Debian headers; Boost.System is header-only.
set(Boost_NO_BOOST_CMAKE ON)
set(Boost_INCLUDE_DIR "${SW_WIN_DEPS_PREFIX}/include")
set(OPENSSL_USE_STATIC_LIBS ON)
set(ZLIB_USE_STATIC_LIBS ON)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
# Big objects (Beast, spdlog with many instantiations) exceed COFF's default section count.
set(CMAKE_CXX_FLAGS_INIT "-Wa,-mbig-obj")

# Lets ctest (and gtest_discover_tests) run the .exe files: wine64 with a wine prefix of the build
# tree's own (scripts/windows-test.sh deletes it first, so each run starts from a fresh one).
find_program(SW_WINE64 NAMES wine64 PATHS /usr/lib/wine NO_CMAKE_FIND_ROOT_PATH)
if(SW_WINE64 AND CMAKE_BINARY_DIR)
  set(CMAKE_CROSSCOMPILING_EMULATOR env WINEDEBUG=-all WINEPREFIX=${CMAKE_BINARY_DIR}/wineprefix
                                    ${SW_WINE64})
endif()
