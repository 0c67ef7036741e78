// Runs a shell command line as a user would and returns its standard output and exit status:
// the integration tests that drive the real binary share this.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace sw_test {

struct ShellRun {
  int exit_code = -1;  // -1 when the command could not run or did not exit normally
  std::string out;
};

inline ShellRun run_shell(const std::string& cmd) {
  ShellRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[65536];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace sw_test
