// The output factory's table. A new output is a folder under outputs/ and one line here.
#include <array>

#include "forward/output_plugin.hpp"
#include "forward/outputs/file/file_output.hpp"
#include "forward/outputs/http/http_output.hpp"
#include "forward/outputs/relp/relp_output.hpp"
#include "forward/outputs/stdout/stdout_output.hpp"
#include "forward/outputs/syslog/syslog_output.hpp"

namespace sw::forward::detail {

std::span<const PluginEntry> plugin_registry() {
  static const std::array kEntries = {
      PluginEntry{"syslog", &make_syslog_output},
#ifdef SW_HAVE_RELP
      PluginEntry{"relp", &make_relp_output},
#endif
      PluginEntry{"http", &make_http_output},     PluginEntry{"file", &make_file_output},
      PluginEntry{"stdout", &make_stdout_output},
  };
  return kEntries;
}

}  // namespace sw::forward::detail
