// RELP through librelp. Confirmed = rsyslog acknowledged the frame. librelp does not report
// acknowledgements one by one, but its send window does: relpCltSendSyslog returns only when
// fewer than `window` frames are unacknowledged, so after sending frame N every frame up to
// N - window is acknowledged. The last window is settled when the stream goes idle by closing
// the session, which waits for every outstanding response; any librelp error on the way
// (reported through the engine's error callback) means nothing is confirmed and all is resent.
#include "forward/outputs/relp/relp_output.hpp"

#ifdef SW_HAVE_RELP

#include "forward/outputs/relp/librelp_api.hpp"

#include <sys/socket.h>

#include <csignal>
#include <mutex>

namespace sw::forward::detail {

namespace {

constexpr int kWindow = 128;

class RelpOutput final : public OutputPlugin {
 public:
  RelpOutput(const RelpOptions& config, std::vector<Url> urls)
      : config_(config), urls_(std::move(urls)) {}
  ~RelpOutput() override {
    close_session();
    if (engine_) relp_.relpEngineDestruct(&engine_);
  }

  std::string init() override {
    ignore_sigpipe();
    if (relp_.relpEngineConstruct(&engine_) != RELP_RET_OK) return "librelp: cannot create engine";
    // librelp calls it unconditionally.
    relp_.relpEngineSetDbgprint(engine_, &RelpOutput::no_debug);
    relp_.relpEngineSetDnsLookupMode(engine_, 0);
    relp_.relpEngineSetOnErr(engine_, &RelpOutput::on_error);
    relp_.relpEngineSetOnGenericErr(engine_, &RelpOutput::on_generic_error);
    relp_.relpEngineSetEnableCmd(engine_,
                                 reinterpret_cast<unsigned char*>(const_cast<char*>("syslog")),
                                 eRelpCmdState_Required);
    return {};
  }

  // librelp writes with send(..., 0): a collector closing the connection mid-frame raises
  // SIGPIPE, whose default action ends the process. The daemon ignores it already; any other
  // host of this output (tests, tools) would die on a collector restart. A handler the host
  // installed itself is left alone.
  static void ignore_sigpipe() {
    struct sigaction current {};
    if (sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
      std::signal(SIGPIPE, SIG_IGN);
    }
  }

  FlushResult flush(std::span<const Record> records) override {
    if (!engine_) return retry("librelp engine not initialized");
    if (!client_) {
      std::string errors;
      for (std::size_t i = 0; i < urls_.size() && !client_; ++i) {
        std::string err = open_session(i);
        if (!err.empty()) errors += (errors.empty() ? "" : "; ") + err;
      }
      if (!client_) return retry(errors);
    }
    FlushResult r;
    r.status = FlushStatus::kWritten;
    for (const Record& rec : records) {
      relpRetVal rc = relp_.relpCltSendSyslog(
          client_, reinterpret_cast<unsigned char*>(const_cast<char*>(rec.payload.data())),
          rec.payload.size());
      if (rc != RELP_RET_OK || failed_) {
        std::string err = "RELP send to " + config_.endpoints.urls[active_] + " failed (librelp " +
                          std::to_string(rc) + (last_error_.empty() ? "" : ": " + last_error_) +
                          ")";
        abort_session();
        return retry(err);
      }
      ++sent_;
      ++r.count;
    }
    return r;
  }

  ConfirmResult confirm(bool idle) override {
    ConfirmResult r;
    if (failed_) {
      r.ok = false;
      r.error = "RELP session to " + config_.endpoints.urls[active_] + " broke: " + last_error_;
      abort_session();
      return r;
    }
    std::uint64_t settled = sent_ > static_cast<std::uint64_t>(kWindow) ? sent_ - kWindow : 0;
    if (idle && client_ && sent_ > reported_) {
      close_session();  // waits for the responses to everything sent
      if (failed_) {
        r.ok = false;
        r.error = "RELP close with " + config_.endpoints.urls[active_] + " failed: " + last_error_;
        failed_ = false;
        sent_ = reported_ = 0;
        return r;
      }
      settled = sent_;
    }
    if (settled > reported_) {
      r.confirmed = static_cast<std::size_t>(settled - reported_);
      reported_ = settled;
    }
    if (!client_) sent_ = reported_ = 0;
    return r;
  }

  void exit() override { close_session(); }
  std::string active_url() const override {
    return client_ ? config_.endpoints.urls[active_] : std::string();
  }
  bool connected() const override { return client_ != nullptr; }
  std::uint64_t reconnects() const override { return reconnects_; }

 private:
  static void on_error(void* user, char* object, char* message, relpRetVal code) {
    auto* self = static_cast<RelpOutput*>(user);
    if (!self) return;
    self->failed_ = true;
    self->last_error_ = std::string(message ? message : "error") + " [" + (object ? object : "") +
                        "] (" + std::to_string(code) + ")";
  }
  static void no_debug(char*, ...) {}
  static void on_generic_error(char* object, char* message, relpRetVal code) {
    (void)object;
    (void)message;
    (void)code;
  }

  std::string open_session(std::size_t i) {
    failed_ = false;
    last_error_.clear();
    if (relp_.relpEngineCltConstruct(engine_, &client_) != RELP_RET_OK) {
      client_ = nullptr;
      return "librelp: cannot create client";
    }
    relp_.relpCltSetUsrPtr(client_, this);
    auto seconds = [](std::chrono::milliseconds ms) {
      return static_cast<int>(std::max<std::int64_t>(1, (ms.count() + 999) / 1000));
    };
    relp_.relpCltSetTimeout(client_, static_cast<unsigned>(seconds(config_.endpoints.io_timeout)));
    relp_.relpCltSetConnTimeout(client_, seconds(config_.endpoints.connect_timeout));
    relp_.relpCltSetWindowSize(client_, kWindow);
    relpRetVal rc = relp_.relpCltConnect(
        client_, AF_UNSPEC,
        reinterpret_cast<unsigned char*>(const_cast<char*>(urls_[i].port.c_str())),
        reinterpret_cast<unsigned char*>(const_cast<char*>(urls_[i].host.c_str())));
    if (rc != RELP_RET_OK || failed_) {
      std::string err = "cannot open RELP session with " + config_.endpoints.urls[i] +
                        " (librelp " + std::to_string(rc) +
                        (last_error_.empty() ? "" : ": " + last_error_) + ")";
      abort_session();
      return err;
    }
    if (ever_connected_) ++reconnects_;
    ever_connected_ = true;
    active_ = i;
    sent_ = reported_ = 0;
    return {};
  }

  // Polite close: librelp waits for the server's responses to everything outstanding.
  void close_session() {
    if (client_) relp_.relpEngineCltDestruct(engine_, &client_);
    client_ = nullptr;
  }

  void abort_session() {
    close_session();
    sent_ = reported_ = 0;
    failed_ = false;
  }

  const Librelp& relp_ = librelp();  // make_relp_output checked that it loaded
  RelpOptions config_;
  std::vector<Url> urls_;
  relpEngine_t* engine_ = nullptr;
  relpClt_t* client_ = nullptr;
  std::size_t active_ = 0;
  std::uint64_t sent_ = 0;      // frames handed to librelp in this session
  std::uint64_t reported_ = 0;  // of those, confirmed to the sender
  bool failed_ = false;
  bool ever_connected_ = false;
  std::uint64_t reconnects_ = 0;
  std::string last_error_;
};

}  // namespace

std::unique_ptr<OutputPlugin> make_relp_output(const OutputConfig& output, std::string& error) {
  const RelpOptions* config = options_of<RelpOptions>(output, error);
  if (!config) return nullptr;
  if (!librelp().error.empty()) {
    error = "relp output: " + librelp().error;
    return nullptr;
  }
  std::vector<Url> urls;
  for (const auto& u : config->endpoints.urls) {
    Url url;
    if (!parse_url(u, url, error)) return nullptr;
    if (url.scheme != "relp") {
      error = "'" + u + "': relp output needs relp://";
      return nullptr;
    }
    urls.push_back(url);
  }
  if (urls.empty()) {
    error = "relp output needs a url";
    return nullptr;
  }
  return std::make_unique<RelpOutput>(*config, std::move(urls));
}

}  // namespace sw::forward::detail

#endif  // SW_HAVE_RELP
