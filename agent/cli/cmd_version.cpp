// `sessionwatch version`: the agent's version and the libraries it was built with, so a bug report
// or an audit (which OpenSSL does this agent link?) needs no other tool.
#include <openssl/crypto.h>
#include <zlib.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/library_versions.hpp"
#include "platform/openssl_on_demand.hpp"

#ifndef SW_VERSION
#define SW_VERSION "0.0.0"
#endif

namespace sw::cli {

namespace {

constexpr const char* kVersionHelp = R"(Usage: sessionwatch version [--json]

Prints the version of sessionwatch and of each library it was built with, and of the shared
libraries whose version can change under it without a rebuild (OpenSSL, zlib) as loaded now.
  --json   one JSON object: {"version": ..., "libraries": {name: version}, "runtime": {...}}
)";

struct RuntimeVersion {
  const char* name;
  std::string version;
};

// OpenSSL is opened here (platform/openssl_on_demand.hpp); where it cannot be, that is what an
// admin running `version` to find out needs to read, not an exit.
std::string openssl_version() {
  std::string error;
  if (!platform::openssl_ready(error)) return "not loaded: " + error;
  return OpenSSL_version(OPENSSL_VERSION);
}

std::vector<RuntimeVersion> runtime_versions() {
  return {{"openssl", openssl_version()}, {"zlib", zlibVersion()}};
}

void print_text() {
  std::printf("sessionwatch %s\n\nBuilt with:\n", SW_VERSION);
  for (const LibraryVersion& lib : kLibraryVersions) {
    std::printf("  %-14s %s\n", lib.name, lib.version);
  }
  std::printf("Loaded at run time:\n");
  for (const RuntimeVersion& lib : runtime_versions()) {
    std::printf("  %-14s %s\n", lib.name, lib.version.c_str());
  }
}

void print_json() {
  nlohmann::json libraries = nlohmann::json::object();
  for (const LibraryVersion& lib : kLibraryVersions) libraries[lib.name] = lib.version;
  nlohmann::json runtime = nlohmann::json::object();
  for (const RuntimeVersion& lib : runtime_versions()) runtime[lib.name] = lib.version;
  const nlohmann::json j{{"version", SW_VERSION}, {"libraries", libraries}, {"runtime", runtime}};
  std::printf("%s\n", j.dump().c_str());
}

}  // namespace

int cmd_version(const std::vector<std::string>& args) {
  Args a(args, {}, {"help", "json"});
  if (!a.ok() || a.flag("help") || !a.positional().empty()) {
    std::fputs(kVersionHelp, a.flag("help") ? stdout : stderr);
    return a.flag("help") ? kExitOk : kExitUsage;
  }
  if (a.flag("json")) {
    print_json();
  } else {
    print_text();
  }
  return kExitOk;
}

}  // namespace sw::cli
