// The one owner of a C stdio stream: closes it once, when it goes out of scope. The standard
// streams are never closed, so "-" (stdin/stdout) and named files share one code path.
#pragma once

#include <cstdio>
#include <memory>

namespace sw {

struct FileCloser {
  void operator()(std::FILE* f) const noexcept {
    if (f != nullptr && f != stdin && f != stdout && f != stderr) std::fclose(f);
  }
};

using UniqueFile = std::unique_ptr<std::FILE, FileCloser>;

}  // namespace sw
