#include "sessionwatch/yaml_guard.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace sw::yaml {
namespace {

// Thrown from the event handler to stop yaml-cpp where a limit is crossed.
struct Stop {
  YAML::Mark mark;
  bool syntax;
  std::string message;
};

// Sees the stream's events without building anything and stops it at the first limit.
class Guard : public YAML::EventHandler {
 public:
  explicit Guard(const Limits& limits) : limits_(limits) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    // yaml-cpp starts each document at the next token; the same token twice means the previous
    // document consumed nothing and yaml-cpp would repeat it forever.
    if (documents_ > 0 && mark.pos <= last_document_pos_) {
      throw Stop{mark, true, "unexpected token where a document should start"};
    }
    last_document_pos_ = mark.pos;
    if (++documents_ > limits_.max_documents) {
      throw Stop{mark, false,
                 "more than " + std::to_string(limits_.max_documents) + " YAML documents"};
    }
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    open(mark);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    open(mark);
  }
  void OnMapEnd() override { --depth_; }

 private:
  void node(const YAML::Mark& mark) {
    if (++nodes_ > limits_.max_nodes) {
      throw Stop{mark, false, "more than " + std::to_string(limits_.max_nodes) + " YAML nodes"};
    }
  }
  void open(const YAML::Mark& mark) {
    node(mark);
    if (++depth_ > limits_.max_depth) {
      throw Stop{mark, false,
                 "YAML nested deeper than " + std::to_string(limits_.max_depth) + " levels"};
    }
  }

  const Limits& limits_;
  std::size_t documents_ = 0;
  int last_document_pos_ = -1;
  std::size_t nodes_ = 0;
  int depth_ = 0;
};

Problem at(const YAML::Mark& mark, bool syntax, std::string message) {
  const Position p = position_of(mark);
  return Problem{p.line, p.column, syntax, std::move(message)};
}

// Streams all of `text` through the guard. false + `problem` where it stopped.
bool screen(std::string_view text, const Limits& limits, Problem& problem) {
  if (text.size() > limits.max_bytes) {
    problem = Problem{0, 0, false,
                      "the file has " + std::to_string(text.size()) + " bytes; at most " +
                          std::to_string(limits.max_bytes) + " are read"};
    return false;
  }
  try {
    std::istringstream stream{std::string(text)};
    YAML::Parser parser(stream);
    Guard guard(limits);
    while (parser.HandleNextDocument(guard)) {
    }
    return true;
  } catch (const Stop& stop) {
    problem = at(stop.mark, stop.syntax, stop.message);
  } catch (const YAML::Exception& e) {
    problem = at(e.mark, true, e.msg);
  }
  return false;
}

// Builds nodes from a stream `screen` passed; yaml-cpp's own errors become a problem.
template <typename Build>
bool build(Build&& run, Problem& problem) {
  try {
    run();
    return true;
  } catch (const YAML::Exception& e) {
    problem = at(e.mark, true, e.msg);
  }
  return false;
}

}  // namespace

Position position_of(const YAML::Mark& mark) {
  return Position{mark.line >= 0 ? mark.line + 1 : 0, mark.column >= 0 ? mark.column + 1 : 0};
}

bool load_all(std::string_view text, std::vector<YAML::Node>& docs, Problem& problem,
              const Limits& limits) {
  if (!screen(text, limits, problem)) return false;
  return build([&] { docs = YAML::LoadAll(std::string(text)); }, problem);
}

bool load_first(std::string_view text, YAML::Node& root, Problem& problem, const Limits& limits) {
  if (!screen(text, limits, problem)) return false;
  return build([&] { root = YAML::Load(std::string(text)); }, problem);
}

bool read_bounded_file(const std::string& path, std::size_t max_bytes, std::string& text,
                       std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::string("cannot open: ") + std::strerror(errno);
    return false;
  }
  text.clear();
  char chunk[64 * 1024];
  while (text.size() <= max_bytes && in.read(chunk, sizeof chunk).gcount() > 0) {
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) {
    error = std::string("read error: ") + std::strerror(errno);
    return false;
  }
  if (text.size() > max_bytes) {
    error = "larger than " + std::to_string(max_bytes) +
            " bytes (the limit for a rule or configuration file)";
    return false;
  }
  return true;
}

}  // namespace sw::yaml
