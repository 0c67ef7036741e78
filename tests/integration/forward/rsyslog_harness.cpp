#include "rsyslog_harness.hpp"

#include "integration/loopback.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace sw::forward::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* kRsyslogd = "/usr/sbin/rsyslogd";
constexpr const char* kModules = "/usr/lib/x86_64-linux-gnu/rsyslog";

int run_quiet(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

bool port_accepts(unsigned short port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

bool make_test_pki(const fs::path& dir, TestPki& out, std::string& error) {
  fs::create_directories(dir);
  const std::string d = dir.string();
  std::ofstream(dir / "san.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string cmds[] = {
      "openssl req -x509 " + ec + " -keyout " + d + "/ca.key -out " + d +
          "/ca.pem -days 2 -subj /CN=sessionwatch-test-ca",
      "openssl req -x509 " + ec + " -keyout " + d + "/other-ca.key -out " + d +
          "/other-ca.pem -days 2 -subj /CN=some-other-ca",
      "openssl req " + ec + " -keyout " + d + "/server.key -out " + d +
          "/server.csr -subj /CN=localhost",
      "openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.pem -CAkey " + d +
          "/ca.key -CAcreateserial -out " + d + "/server.pem -days 2 -extfile " + d + "/san.ext",
  };
  for (const auto& c : cmds) {
    if (run_quiet(c) != 0) {
      error = "failed: " + c;
      return false;
    }
  }
  out.ca = dir / "ca.pem";
  out.other_ca = dir / "other-ca.pem";
  out.server_cert = dir / "server.pem";
  out.server_key = dir / "server.key";
  return true;
}

unsigned short free_port(bool udp) {
  return sw_test::free_port(udp);
}

bool Rsyslog::available(std::string& why_not) {
  if (!fs::exists(kRsyslogd)) {
    why_not = "rsyslogd is not installed (apt-get install rsyslog rsyslog-relp rsyslog-gnutls)";
    return false;
  }
  for (const char* m : {"imtcp.so", "imudp.so", "imrelp.so", "lmnsd_gtls.so"}) {
    if (!fs::exists(fs::path(kModules) / m)) {
      why_not = std::string("rsyslog module ") + m + " is not installed";
      return false;
    }
  }
  return true;
}

Rsyslog::Rsyslog(fs::path dir, Input input, const TestPki* pki)
    : dir_(std::move(dir)), input_(input), pki_(pki), port_(free_port(input == Input::kUdp)) {
  fs::create_directories(dir_ / "work");
}

Rsyslog::~Rsyslog() {
  stop();
}

std::string Rsyslog::url() const {
  const char* scheme = input_ == Input::kUdp   ? "udp"
                       : input_ == Input::kTcp ? "tcp"
                       : input_ == Input::kTls ? "tls"
                                               : "relp";
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_);
}

bool Rsyslog::start(std::string& error) {
  std::ostringstream conf;
  conf << "global(workDirectory=\"" << (dir_ / "work").string() << "\" maxMessageSize=\"64k\"";
  if (input_ == Input::kTls) {
    conf << " defaultNetstreamDriver=\"gtls\" defaultNetstreamDriverCAFile=\"" << pki_->ca.string()
         << "\" defaultNetstreamDriverCertFile=\"" << pki_->server_cert.string()
         << "\" defaultNetstreamDriverKeyFile=\"" << pki_->server_key.string() << "\"";
  }
  conf << ")\n";
  // On SIGTERM rsyslog gives its in-memory main queue 1.5 s to drain, then discards the rest:
  // on a loaded machine a restart mid-stream then lost what it had already read (and our TCP
  // output had rightly counted as delivered). The collector under test keeps what it read.
  conf << "main_queue(queue.timeoutShutdown=\"60000\" queue.timeoutActionCompletion=\"60000\")\n";
  // Tabs cannot occur unescaped in what we send, so they separate the recorded fields.
  conf << "template(name=\"fields\" type=\"string\" string=\"%syslogfacility%\\t%syslogseverity%"
          "\\t%hostname%\\t%app-name%\\t%msgid%\\t%structured-data%\\t%msg%\\n\")\n";
  // rsyslog's own RFC 5424 structured-data parser (mmpstrucdata) writes each record's SD as
  // JSON: what a collector that reads only the SD sees.
  conf << "module(load=\"mmpstrucdata\")\n"
          "template(name=\"sd\" type=\"string\" string=\"%$!rfc5424-sd%\\n\")\n";
  conf << "ruleset(name=\"in\") { action(type=\"mmpstrucdata\") action(type=\"omfile\" file=\""
       << (dir_ / "received.log").string()
       << "\" template=\"fields\") action(type=\"omfile\" file=\"" << (dir_ / "sd.log").string()
       << "\" template=\"sd\") }\n";
  switch (input_) {
    case Input::kUdp:
      conf << "module(load=\"imudp\")\ninput(type=\"imudp\" address=\"127.0.0.1\" port=\"" << port_
           << "\" ruleset=\"in\")\n";
      break;
    case Input::kTcp:
      conf << "module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << port_
           << "\" ruleset=\"in\")\n";
      break;
    case Input::kTls:
      conf << "module(load=\"imtcp\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\" "
              "streamDriver.authMode=\"anon\")\n"
           << "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << port_
           << "\" ruleset=\"in\")\n";
      break;
    case Input::kRelp:
      conf << "module(load=\"imrelp\")\ninput(type=\"imrelp\" address=\"127.0.0.1\" port=\""
           << port_ << "\" ruleset=\"in\")\n";
      break;
  }
  std::ofstream(dir_ / "rsyslog.conf") << conf.str();

  const std::string conf_path = (dir_ / "rsyslog.conf").string();
  const std::string pid_path = (dir_ / "rsyslog.pid").string();
  const std::string log_path = (dir_ / "rsyslogd.out").string();
  std::vector<std::string> args = {kRsyslogd, "-n",     "-f", conf_path,
                                   "-i",      pid_path, "-M", kModules};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  int rc = posix_spawn(&pid_, kRsyslogd, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    error = "cannot start rsyslogd";
    pid_ = -1;
    return false;
  }
  // Ready when it listens (UDP: give it a moment, there is nothing to connect to); up to 20 s,
  // as a TLS listener starts slowly on a loaded machine.
  for (int i = 0; i < 800; ++i) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::ifstream f(log_path);
      error = "rsyslogd exited at start: " + std::string(std::istreambuf_iterator<char>(f), {});
      return false;
    }
    if (input_ == Input::kUdp ? i >= 5 : port_accepts(port_)) return true;
    std::this_thread::sleep_for(25ms);
  }
  error = "rsyslogd did not listen on port " + std::to_string(port_);
  return false;
}

void Rsyslog::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::vector<Received> Rsyslog::received() const {
  std::vector<Received> out;
  std::ifstream f(dir_ / "received.log");
  std::string line;
  while (std::getline(f, line)) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (int i = 0; i < 6; ++i) {
      std::size_t tab = line.find('\t', start);
      if (tab == std::string::npos) break;
      parts.push_back(line.substr(start, tab - start));
      start = tab + 1;
    }
    if (parts.size() != 6) continue;
    Received r;
    r.facility = std::atoi(parts[0].c_str());
    r.severity = std::atoi(parts[1].c_str());
    r.hostname = parts[2];
    r.app_name = parts[3];
    r.msgid = parts[4];
    r.structured_data = parts[5];
    r.msg = line.substr(start);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::string> Rsyslog::parsed_structured_data() const {
  std::vector<std::string> out;
  std::ifstream f(dir_ / "sd.log");
  for (std::string line; std::getline(f, line);) out.push_back(line);
  return out;
}

std::size_t Rsyslog::count() const {
  std::ifstream f(dir_ / "received.log");
  std::size_t n = 0;
  std::string line;
  while (std::getline(f, line)) ++n;
  return n;
}

std::size_t Rsyslog::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t have = count();
  while (have < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    have = count();
  }
  return have;
}

}  // namespace sw::forward::testing
