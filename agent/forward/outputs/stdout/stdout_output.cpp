// stdout: one record per line; delivered once the C stream is flushed to the pipe/terminal.
#include <cstdio>
#include <cstring>

#include "forward/outputs/stdout/stdout_output.hpp"

namespace sw::forward::detail {

namespace {

class StdoutOutput final : public OutputPlugin {
 public:
  FlushResult flush(std::span<const Record> records) override {
    FlushResult r;
    for (const Record& rec : records) {
      line_.assign(rec.payload);
      line_.push_back('\n');
      if (std::fwrite(line_.data(), 1, line_.size(), stdout) != line_.size()) break;
      ++r.count;
    }
    if (std::fflush(stdout) != 0 || r.count == 0) {
      r.status = FlushStatus::kRetry;
      r.count = 0;
      r.error = std::string("write to stdout failed: ") + std::strerror(errno);
    }
    return r;
  }
  std::string active_url() const override { return "stdout"; }
  bool connected() const override { return true; }

 private:
  std::string line_;
};

std::shared_ptr<const OutputOptions> parse_stdout_options(ConfigReader&, const YAML::Node&,
                                                          const OutputConfig&) {
  return std::make_shared<StdoutOptions>();
}

}  // namespace

const PluginEntry kStdoutOutput = {"stdout", {}, &parse_stdout_options, &make_stdout_output, false};

std::unique_ptr<OutputPlugin> make_stdout_output(const OutputConfig&, std::string&) {
  return std::make_unique<StdoutOutput>();
}

}  // namespace sw::forward::detail
