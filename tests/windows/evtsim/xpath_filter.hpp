// evtsim: the subset of the Event Log's XPath 1.0 filters the simulator evaluates: `*`, or
// `*[System[EXPR]]` (also `Event[System[EXPR]]`) where EXPR combines EventID and Level
// comparisons (=, !=, <, <=, >, >=) with `and`, `or` and parentheses: what `sessionwatch` sends
// (`event_ids: auto` and ID lists) and typical user queries such as `*[System[Level<=3]]`.
// Anything else is refused as Windows refuses a bad query, with a reason for
// EvtGetExtendedStatus.
#pragma once

#include <cctype>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace evtsim {

class Filter {
 public:
  bool parse(const std::string& query, std::string& error) {
    text_ = query;
    at_ = 0;
    root_.reset();
    skip();
    if (!take("*") && !take("Event")) return refuse("expected '*' or 'Event'", error);
    skip();
    if (at_ == text_.size()) return true;  // everything
    if (!take("[") || !take("System") || !take("[")) {
      return refuse("only System[...] filters are simulated", error);
    }
    root_ = parse_or();
    if (!root_ || !take("]") || !take("]")) return refuse("unexpected token", error);
    skip();
    if (at_ != text_.size()) return refuse("trailing text", error);
    return true;
  }

  bool matches(std::uint32_t event_id, std::uint32_t level) const {
    return !root_ || root_->eval(event_id, level);
  }

 private:
  struct Node {
    enum class Op { kOr, kAnd, kEq, kNe, kLt, kLe, kGt, kGe } op = Op::kOr;
    bool level = false;  // compares Level, not EventID
    std::uint64_t value = 0;
    std::vector<std::unique_ptr<Node>> children;

    bool eval(std::uint32_t event_id, std::uint32_t lvl) const {
      const std::uint64_t v = level ? lvl : event_id;
      switch (op) {
        case Op::kOr:
          for (const auto& c : children) {
            if (c->eval(event_id, lvl)) return true;
          }
          return false;
        case Op::kAnd:
          for (const auto& c : children) {
            if (!c->eval(event_id, lvl)) return false;
          }
          return true;
        case Op::kEq:
          return v == value;
        case Op::kNe:
          return v != value;
        case Op::kLt:
          return v < value;
        case Op::kLe:
          return v <= value;
        case Op::kGt:
          return v > value;
        case Op::kGe:
          return v >= value;
      }
      return false;
    }
  };

  bool refuse(const char* why, std::string& error) {
    error = "The specified query is invalid: " + std::string(why) + " at position " +
            std::to_string(at_ + 1) + " of '" + text_ + "'";
    root_.reset();
    return false;
  }
  void skip() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
  }
  bool take(const std::string& token) {
    skip();
    if (text_.compare(at_, token.size(), token) != 0) return false;
    at_ += token.size();
    return true;
  }

  std::unique_ptr<Node> parse_or() {
    auto node = parse_and();
    if (!node) return nullptr;
    auto group = std::make_unique<Node>();
    group->op = Node::Op::kOr;
    group->children.push_back(std::move(node));
    while (take("or ")) {
      auto next = parse_and();
      if (!next) return nullptr;
      group->children.push_back(std::move(next));
    }
    return group;
  }
  std::unique_ptr<Node> parse_and() {
    auto node = parse_atom();
    if (!node) return nullptr;
    auto group = std::make_unique<Node>();
    group->op = Node::Op::kAnd;
    group->children.push_back(std::move(node));
    while (take("and ")) {
      auto next = parse_atom();
      if (!next) return nullptr;
      group->children.push_back(std::move(next));
    }
    return group;
  }
  std::unique_ptr<Node> parse_atom() {
    if (take("(")) {
      auto inner = parse_or();
      if (!inner || !take(")")) return nullptr;
      return inner;
    }
    auto node = std::make_unique<Node>();
    if (take("EventID")) {
      node->level = false;
    } else if (take("Level")) {
      node->level = true;
    } else {
      return nullptr;
    }
    using Op = Node::Op;
    if (take("<="))
      node->op = Op::kLe;
    else if (take(">="))
      node->op = Op::kGe;
    else if (take("!="))
      node->op = Op::kNe;
    else if (take("<"))
      node->op = Op::kLt;
    else if (take(">"))
      node->op = Op::kGt;
    else if (take("="))
      node->op = Op::kEq;
    else
      return nullptr;
    skip();
    const std::size_t start = at_;
    while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_]))) ++at_;
    if (at_ == start) return nullptr;
    node->value = std::stoull(text_.substr(start, at_ - start));
    return node;
  }

  std::string text_;
  std::size_t at_ = 0;
  std::unique_ptr<Node> root_;
};

}  // namespace evtsim
