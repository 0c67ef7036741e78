// Starts a real rsyslogd in the foreground on loopback ports chosen at run time, with its own
// work directory, and records every message it receives, field by field, in a file.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace sw::forward::testing {

// Fields rsyslog parsed from one message, as recorded by the harness's template.
struct Received {
  int facility = -1;
  int severity = -1;
  std::string hostname;
  std::string app_name;
  std::string msgid;
  std::string structured_data;
  std::string msg;
};

struct TestPki {
  std::filesystem::path ca, server_cert, server_key;
  std::filesystem::path other_ca;  // a CA that signed nothing rsyslog presents
};

// Makes a CA and a server certificate for "localhost" / 127.0.0.1 with the openssl tool.
bool make_test_pki(const std::filesystem::path& dir, TestPki& out, std::string& error);

// A free loopback port (TCP or UDP) at the time of the call.
unsigned short free_port(bool udp = false);

class Rsyslog {
 public:
  enum class Input { kUdp, kTcp, kTls, kRelp };

  static bool available(std::string& why_not);

  Rsyslog(std::filesystem::path dir, Input input, const TestPki* pki = nullptr);
  ~Rsyslog();

  bool start(std::string& error);
  void stop();  // SIGTERM and wait: rsyslog drains what it has read
  unsigned short port() const { return port_; }
  std::string url() const;
  std::vector<Received> received() const;
  // Each record's structured data as rsyslog's mmpstrucdata parsed it (a JSON object per line).
  std::vector<std::string> parsed_structured_data() const;
  // Waits until at least `n` messages were written (or timeout); returns how many there are.
  std::size_t wait_for(std::size_t n, std::chrono::milliseconds timeout) const;
  std::size_t count() const;

 private:
  std::filesystem::path dir_;
  Input input_;
  const TestPki* pki_;
  unsigned short port_;
  pid_t pid_ = -1;
};

}  // namespace sw::forward::testing
