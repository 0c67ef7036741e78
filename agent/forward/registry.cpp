// The output factory's table. A new output is a folder under outputs/ (its options, their
// parser and the plugin) and one line here.
#include <array>

#include "forward/output_plugin.hpp"
#include "forward/outputs/file/file_output.hpp"
#include "forward/outputs/http/http_output.hpp"
#include "forward/outputs/kafka/kafka_output.hpp"
#include "forward/outputs/relp/relp_output.hpp"
#include "forward/outputs/stdout/stdout_output.hpp"
#include "forward/outputs/syslog/syslog_output.hpp"

namespace sw::forward::detail {

std::span<const PluginEntry> plugin_registry() {
  static const std::array kEntries = {
      kSyslogOutput,
#ifdef SW_HAVE_RELP
      kRelpOutput,
#endif
      kHttpOutput,   kFileOutput, kStdoutOutput, kKafkaOutput,
  };
  return kEntries;
}

}  // namespace sw::forward::detail
