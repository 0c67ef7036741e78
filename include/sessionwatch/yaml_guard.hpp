// YAML from files an attacker may write (rules, the configuration), parsed within bounds.
//
// yaml-cpp 0.7 (Debian 12) never returns from LoadAll on some 4-byte inputs ("!, a", ",?1"):
// a document that consumes no token is followed by the same document again, forever, each one a
// new node in memory (jbeder/yaml-cpp#1040, fixed upstream in 2024 by PR #1318 and #1319). Its
// parser also recurses once per nesting level. So every document is first streamed through an
// event handler that stops at the first document that makes no progress, at a nesting depth, a
// node count and a document count; only a stream that passes is then built into nodes. Both
// passes are linear in the input, whose size is bounded too.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace YAML {
class Node;
struct Mark;
}  // namespace YAML

namespace sw::yaml {

struct Limits {
  std::size_t max_bytes = 1 << 20;  // per file; SigmaHQ's largest rule is about 40 KiB
  int max_depth = 64;               // nested sequences and maps; rules need 4, the config 5
  std::size_t max_nodes = 200'000;
  std::size_t max_documents = 10'000;
};

struct Problem {
  int line = 0;  // 1-based; 0 when unknown
  int column = 0;
  bool syntax = false;  // the text is not YAML (else: a limit was crossed)
  std::string message;
};

// 1-based line and column of a yaml-cpp mark (which counts from 0); 0 for a null mark (-1).
struct Position {
  int line = 0;
  int column = 0;
};
Position position_of(const YAML::Mark& mark);

// Every document of `text`. false + `problem` on a syntax error or a limit.
bool load_all(std::string_view text, std::vector<YAML::Node>& docs, Problem& problem,
              const Limits& limits = {});
// The first document of `text` (an undefined node when there is none).
bool load_first(std::string_view text, YAML::Node& root, Problem& problem,
                const Limits& limits = {});

// Reads a whole file of at most `max_bytes`. false + `error` when it cannot be read or is larger.
bool read_bounded_file(const std::string& path, std::size_t max_bytes, std::string& text,
                       std::string& error);

}  // namespace sw::yaml
