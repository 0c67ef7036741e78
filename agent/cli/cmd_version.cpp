#include <cstdio>

#include <boost/version.hpp>
#include <nlohmann/json.hpp>

#include "cli/args.hpp"
#include "cli/commands.hpp"

#ifndef SW_VERSION
#define SW_VERSION "0.0.0"
#endif

namespace sw::cli {

int cmd_version(const std::vector<std::string>& args) {
  Args a(args, {}, {"help", "json"});
  if (!a.ok() || a.flag("help") || !a.positional().empty()) {
    std::fputs("Usage: sessionwatch version [--json]\n", a.flag("help") ? stdout : stderr);
    return a.flag("help") ? kExitOk : kExitUsage;
  }
  if (a.flag("json")) {
    nlohmann::json j{{"version", SW_VERSION},
                     {"boost", BOOST_LIB_VERSION},
                     {"nlohmann_json", std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                                           std::to_string(NLOHMANN_JSON_VERSION_MINOR)}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("sessionwatch %s\n", SW_VERSION);
  }
  return kExitOk;
}

}  // namespace sw::cli
