# Third-party dependencies, all from Debian packages (or, for the Windows cross build, from
# Debian's source packages built into SW_WIN_DEPS_PREFIX by scripts/build-win-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(spdlog REQUIRED)
find_package(pugixml REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(simdjson REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)

if(NOT WIN32)
  pkg_check_modules(LIBEVTX REQUIRED IMPORTED_TARGET libevtx)
  pkg_check_modules(LIBRELP IMPORTED_TARGET relp)
  pkg_check_modules(LIBSYSTEMD IMPORTED_TARGET libsystemd)
  # The Kafka input and output; the Windows build has no librdkafka and refuses them.
  option(SW_KAFKA "Kafka input and output (librdkafka, pkg-config rdkafka)" ON)
  if(SW_KAFKA)
    pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
  endif()
endif()

# The Kafka output (librdkafka). Debian has it; the mingw cross build does not, and there the type
# is refused with a message saying so.
if(WIN32)
  set(sw_kafka_default OFF)
else()
  set(sw_kafka_default ON)
endif()
option(SW_KAFKA "Build the Kafka output with librdkafka (pkg-config rdkafka)" ${sw_kafka_default})
if(SW_KAFKA)
  pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
endif()

if(TARGET yaml-cpp AND NOT TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp::yaml-cpp ALIAS yaml-cpp)
endif()
if(TARGET pugixml AND NOT TARGET pugixml::pugixml)
  add_library(pugixml::pugixml ALIAS pugixml)
endif()
