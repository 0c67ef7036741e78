# The versions of the libraries sessionwatch is built with, for `sessionwatch version`: from each
# package's CMake or pkg-config version, or Debian's package version where those say nothing useful
# (re2's pkg-config file says 0.0.0).
set(sw_libs
    "spdlog|${spdlog_VERSION}|libspdlog-dev" "fmt|${fmt_VERSION}|libfmt-dev"
    "boost|${Boost_VERSION_STRING}|libboost-dev" "nlohmann_json|${nlohmann_json_VERSION}|nlohmann-json3-dev"
    "yaml-cpp|${yaml-cpp_VERSION}|libyaml-cpp-dev" "re2|${RE2_VERSION}|libre2-dev"
    "pugixml|${pugixml_VERSION}|libpugixml-dev" "simdjson|${simdjson_VERSION}|libsimdjson-dev"
    "openssl|${OPENSSL_VERSION}|libssl-dev" "zlib|${ZLIB_VERSION_STRING}|zlib1g-dev"
    "librelp|${LIBRELP_VERSION}|librelp-dev" "libsystemd|${LIBSYSTEMD_VERSION}|libsystemd-dev"
    "libevtx|${LIBEVTX_VERSION}|libevtx-dev")
find_program(SW_DPKG_QUERY dpkg-query)
set(sw_library_versions "")
foreach(entry IN LISTS sw_libs)
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 name)
  list(GET parts 1 version)
  list(GET parts 2 debian_package)
  if((version STREQUAL "" OR version STREQUAL "0.0.0") AND SW_DPKG_QUERY AND NOT WIN32)
    execute_process(COMMAND ${SW_DPKG_QUERY} -W -f=\${Version} ${debian_package}
                    OUTPUT_VARIABLE version ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
  endif()
  if(NOT version STREQUAL "")
    string(APPEND sw_library_versions "    {\"${name}\", \"${version}\"},\n")
  endif()
endforeach()
configure_file(${CMAKE_CURRENT_LIST_DIR}/library_versions.hpp.in
               ${CMAKE_CURRENT_BINARY_DIR}/generated/cli/library_versions.hpp @ONLY)
