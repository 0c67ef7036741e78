# Third-party dependencies, all from Debian packages (or, for the Windows cross build, from
# Debian's source packages built into SW_WIN_DEPS_PREFIX by scripts/build-win-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(spdlog REQUIRED)
# sw_spdlog: what a module that logs links. POSIX builds compile Debian's spdlog headers into the
# agent (its header-only target): the shared library's relocations, bound at every start of every
# command, cost more than loading OpenSSL's did once that was opened on first use (1.6M of a
# start's instructions). fmt stays a shared library.
add_library(sw_spdlog INTERFACE)
if(WIN32)
  target_link_libraries(sw_spdlog INTERFACE spdlog::spdlog)
else()
  target_link_libraries(sw_spdlog INTERFACE spdlog::spdlog_header_only)
endif()
find_package(pugixml REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(OpenSSL REQUIRED)
# sw_openssl: what a module that calls OpenSSL links. Windows builds link the libraries; POSIX
# builds take the headers only and open libssl.so.3 on first use (platform/openssl_on_demand.hpp).
add_library(sw_openssl INTERFACE)
if(WIN32)
  target_link_libraries(sw_openssl INTERFACE OpenSSL::SSL OpenSSL::Crypto)
else()
  target_include_directories(sw_openssl INTERFACE ${OPENSSL_INCLUDE_DIR})
  target_link_libraries(sw_openssl INTERFACE sw_platform)
endif()
find_package(ZLIB REQUIRED)
find_package(simdjson REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)

if(NOT WIN32)
  # The libevtx oracle the native EVTX reader is tested and benchmarked against (tests/oracle).
  pkg_check_modules(LIBEVTX REQUIRED IMPORTED_TARGET libevtx)
endif()

# Optional features, each an explicit option: ON where Debian has the library, OFF for the
# Windows cross build (which has none of them: the configuration refuses what they add).
if(WIN32)
  set(sw_feature_default OFF)
else()
  set(sw_feature_default ON)
endif()
option(SW_KAFKA "Kafka input and output (librdkafka, pkg-config rdkafka)" ${sw_feature_default})
option(SW_RELP "RELP output (librelp, pkg-config relp)" ${sw_feature_default})
option(SW_SYSTEMD "systemd readiness and watchdog (libsystemd, pkg-config libsystemd)"
       ${sw_feature_default})

# PkgConfig::<prefix> for an option that is ON, or a stop that says what to install.
macro(sw_feature_package option prefix module package)
  if(${option})
    pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})
    if(NOT ${prefix}_FOUND)
      message(FATAL_ERROR "${option} is ON but pkg-config finds no '${module}': install "
                          "${package} (scripts/deps.sh) or configure with -D${option}=OFF")
    endif()
  endif()
endmacro()
sw_feature_package(SW_KAFKA RDKAFKA rdkafka librdkafka-dev)
sw_feature_package(SW_RELP LIBRELP relp librelp-dev)
sw_feature_package(SW_SYSTEMD LIBSYSTEMD libsystemd libsystemd-dev)

if(TARGET yaml-cpp AND NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp ALIAS yaml-cpp)
endif()
if(TARGET pugixml AND NOT TARGET pugixml::pugixml)
  add_library(pugixml::pugixml ALIAS pugixml)
endif()
