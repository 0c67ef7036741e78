// The Sigma condition grammar, parsed into a Condition tree over the detection's selections.
#include <charconv>

#include "rules/compile_internal.hpp"
#include "sessionwatch/wildcard.hpp"

namespace sw::rules::detail {
namespace {

// --- condition grammar ---
//   expr := and ('or' and)* ; and := not ('and' not)* ; not := 'not' not | primary
//   primary := '(' expr ')' | (N|'all'|'any') 'of' (pattern|'them') | identifier
// The parser and everything that walks the tree recurse once per '(' and 'not': a hostile rule
// with thousands of them would overflow the stack, so nesting is bounded (real rules use < 10).
constexpr int kMaxConditionDepth = 64;

class ConditionParser {
 public:
  ConditionParser(std::string_view text, const YAML::Mark& mark,
                  const std::vector<Selection>& selections)
      : text_(text), mark_(mark), selections_(selections) {
    tokenize();
  }

  Condition parse() {
    if (tokens_.empty()) error(0, "empty condition");
    Condition c = parse_or();
    if (pos_ < tokens_.size())
      error(tokens_[pos_].offset, "unexpected '" + tokens_[pos_].text + "'");
    return c;
  }

 private:
  struct Token {
    std::string text;
    std::size_t offset;
  };

  [[noreturn]] void error(std::size_t offset, const std::string& message) {
    YAML::Mark m = mark_;
    m.column += static_cast<int>(offset);
    // Keep "unsupported:" first so callers can tell unsupported features from mistakes.
    if (message.rfind("unsupported:", 0) == 0) fail_at(m, message + " (in the condition)");
    fail_at(m, "condition: " + message);
  }

  void tokenize() {
    std::size_t i = 0;
    while (i < text_.size()) {
      const char c = text_[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
      } else if (c == '(' || c == ')') {
        tokens_.push_back({std::string(1, c), i++});
      } else if (c == '|') {
        error(i, "unsupported: aggregation expression ('| count() ...'); use a correlation rule");
      } else {
        const std::size_t start = i;
        while (i < text_.size() &&
               std::string_view(" \t\r\n()|").find(text_[i]) == std::string_view::npos)
          ++i;
        tokens_.push_back({std::string(text_.substr(start, i - start)), start});
      }
    }
  }

  bool peek_word(std::string_view w) const {
    return pos_ < tokens_.size() && text::lowered(tokens_[pos_].text) == w;
  }

  Condition combine(Condition::Op op, Condition first, Condition second) {
    if (first.op == op) {
      first.children.push_back(std::move(second));
      return first;
    }
    Condition c;
    c.op = op;
    c.children.push_back(std::move(first));
    c.children.push_back(std::move(second));
    return c;
  }

  Condition parse_or() {
    Condition left = parse_and();
    while (peek_word("or")) {
      ++pos_;
      left = combine(Condition::kOr, std::move(left), parse_and());
    }
    return left;
  }

  Condition parse_and() {
    Condition left = parse_not();
    while (peek_word("and")) {
      ++pos_;
      left = combine(Condition::kAnd, std::move(left), parse_not());
    }
    return left;
  }

  // Counts one level of nesting for as long as it lives.
  class Nesting {
   public:
    Nesting(ConditionParser& p, std::size_t offset) : p_(p) {
      if (++p_.depth_ > kMaxConditionDepth) {
        p_.error(offset, "nested deeper than " + std::to_string(kMaxConditionDepth) +
                             " levels of '(' and 'not'");
      }
    }
    ~Nesting() { --p_.depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;

   private:
    ConditionParser& p_;
  };

  Condition parse_not() {
    if (peek_word("not")) {
      const Nesting nesting(*this, tokens_[pos_].offset);
      ++pos_;
      Condition c;
      c.op = Condition::kNot;
      c.children.push_back(parse_not());
      return c;
    }
    return parse_primary();
  }

  Condition parse_primary() {
    if (pos_ >= tokens_.size()) error(text_.size(), "expression expected at the end");
    const Token& t = tokens_[pos_];
    if (t.text == "(") {
      const Nesting nesting(*this, t.offset);
      ++pos_;
      Condition c = parse_or();
      if (pos_ >= tokens_.size() || tokens_[pos_].text != ")") error(t.offset, "unbalanced '('");
      ++pos_;
      return c;
    }
    if (t.text == ")") error(t.offset, "unexpected ')'");
    const std::string word = text::lowered(t.text);
    if (word == "and" || word == "or")
      error(t.offset, "'" + t.text + "' needs an expression before it");
    if (pos_ + 1 < tokens_.size() && text::lowered(tokens_[pos_ + 1].text) == "of") {
      std::uint32_t n = 0;
      bool all = word == "all";
      if (!all) {
        if (word == "any") {
          n = 1;
        } else {
          auto r = std::from_chars(word.data(), word.data() + word.size(), n);
          if (r.ec != std::errc() || r.ptr != word.data() + word.size() || n == 0)
            error(t.offset, "'" + t.text + " of' needs a positive number, 'all' or 'any'");
        }
      }
      pos_ += 2;
      if (pos_ >= tokens_.size()) error(t.offset, "'of' needs a pattern or 'them'");
      const Token& target = tokens_[pos_++];
      const bool them = text::lowered(target.text) == "them";
      Condition c;
      for (std::uint32_t i = 0; i < selections_.size(); ++i) {
        const std::string& name = selections_[i].name;
        const bool hit = them ? name.empty() || name[0] != '_'
                              : wildcard_match(target.text, name, Wildcards::kStarOnly);
        if (!hit) continue;
        Condition s;
        s.op = Condition::kSelection;
        s.selection = i;
        c.children.push_back(std::move(s));
      }
      if (c.children.empty()) error(target.offset, "'" + target.text + "' names no selection");
      if (all) {
        c.op = Condition::kAnd;
      } else if (n == 1) {
        c.op = Condition::kOr;
      } else {
        c.op = Condition::kAtLeast;
        c.at_least = n;
      }
      return c;
    }
    ++pos_;
    for (std::uint32_t i = 0; i < selections_.size(); ++i) {
      if (selections_[i].name == t.text) {
        Condition c;
        c.op = Condition::kSelection;
        c.selection = i;
        return c;
      }
    }
    if (t.text.find('*') != std::string::npos)
      error(t.offset, "pattern '" + t.text + "' needs '1 of' or 'all of'");
    error(t.offset, "'" + t.text + "' names no selection");
  }

  std::string_view text_;
  YAML::Mark mark_;
  const std::vector<Selection>& selections_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Condition parse_condition(std::string_view text, const YAML::Mark& mark,
                          const std::vector<Selection>& selections) {
  return ConditionParser(text, mark, selections).parse();
}

}  // namespace sw::rules::detail
