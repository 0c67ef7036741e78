#include "errors/recognizer.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "sessionwatch/text.hpp"

namespace sw::errors {
namespace {

using text::is_digit;

constexpr std::string_view kHolderSeparator = "%s\\%s";

// A hex digit's value, or -1: one table lookup per digit while a literal is read.
constexpr std::array<std::int8_t, 256> kHexValue = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (int d = 0; d < 10; ++d) t['0' + d] = static_cast<std::int8_t>(d);
  for (int d = 0; d < 6; ++d) t['a' + d] = t['A' + d] = static_cast<std::int8_t>(10 + d);
  return t;
}();
int hex_value(char c) {
  return kHexValue[static_cast<unsigned char>(c)];
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_word(char c) {
  return is_digit(c) || is_alpha(c) || c == '_';
}
using text::is_space;
using text::lower;
using text::trim;

// Words of a field name, lower case: "Win32Status" -> {win32, status}, "HResult" -> {h, result},
// "event.code" -> {event, code}, "NTSTATUS" -> {ntstatus}.
std::vector<std::string> name_words(std::string_view name) {
  std::vector<std::string> words;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) words.push_back(std::move(cur));
    cur.clear();
  };
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!is_digit(c) && !is_alpha(c)) {
      flush();
      continue;
    }
    const bool upper = c >= 'A' && c <= 'Z';
    if (upper && i > 0) {
      const char p = name[i - 1];
      const bool prev_lower_or_digit = (p >= 'a' && p <= 'z') || is_digit(p);
      const bool prev_upper = p >= 'A' && p <= 'Z';
      const bool next_lower = i + 1 < name.size() && name[i + 1] >= 'a' && name[i + 1] <= 'z';
      if (prev_lower_or_digit || (prev_upper && next_lower)) flush();
    }
    cur.push_back(lower(c));
  }
  flush();
  return words;
}

// The word just before `pos` (skipping a few separator characters), lower case.
std::string word_before(std::string_view v, std::size_t pos) {
  std::size_t i = pos;
  std::size_t skipped = 0;
  while (i > 0 && skipped < 8 && std::strchr(" \t:=#[(),", v[i - 1]) != nullptr) {
    --i;
    ++skipped;
  }
  std::size_t end = i;
  while (i > 0 && (is_alpha(v[i - 1]) || is_digit(v[i - 1]) || v[i - 1] == '_')) --i;
  return text::lowered(v.substr(i, end - i));
}

std::size_t word_before_start(std::string_view v, std::size_t pos) {
  std::size_t i = pos;
  std::size_t skipped = 0;
  while (i > 0 && skipped < 8 && std::strchr(" \t:=#[(),", v[i - 1]) != nullptr) {
    --i;
    ++skipped;
  }
  while (i > 0 && (is_alpha(v[i - 1]) || is_digit(v[i - 1]) || v[i - 1] == '_')) --i;
  return i;
}

bool is_error_word(std::string_view w) {
  static constexpr std::string_view kWords[] = {"error", "err",       "code",     "status",
                                                "rc",    "failed",    "returned", "hresult",
                                                "hr",    "errorcode", "ntstatus"};
  for (auto k : kWords)
    if (w == k) return true;
  return w.ends_with("error") || w.ends_with("code") || w.ends_with("status");
}

bool is_identifier_word(std::string_view w) {
  static constexpr std::string_view kWords[] = {"id",  "ids",  "guid", "luid",    "handle", "pid",
                                                "tid", "port", "sid",  "address", "offset"};
  for (auto k : kWords)
    if (w == k) return true;
  return false;
}

// True when the token at [start, end) reads as an error code in running text: "Error code 7063",
// "Error [7063]:", "error 7063", "failed with error 7063", "(7063)" after an error word.
bool in_error_context(std::string_view v, std::size_t start, std::size_t end) {
  if (is_error_word(word_before(v, start))) return true;
  const bool parenthesized = start > 0 && v[start - 1] == '(' && end < v.size() && v[end] == ')';
  if (!parenthesized) return false;
  const std::string_view before = v.substr(0, start);
  for (std::string_view w : {"error", "fail", "denied", "refused", "unable"})
    if (text::icontains_lower(before, w)) return true;
  return false;
}

// Whether any byte of `w` is zero. Exact as a yes/no: a borrow only ever starts at a zero byte.
bool has_zero_byte(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHighs = 0x8080808080808080ull;
  return ((w - kOnes) & ~w & kHighs) != 0;
}

// Whether `w` has a '7', an 'x' or an 'X' byte ('X' | 0x20 == 'x', and no other byte ORs to it).
bool word_has_7_or_x(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  return has_zero_byte(w ^ (kOnes * '7')) || has_zero_byte((w | (kOnes * 0x20)) ^ (kOnes * 'x'));
}

// The per-value test of scan_value, eight bytes at a time: far fewer steps than a byte loop or
// three memchr calls on the short values most fields hold.
bool has_7_or_x(std::string_view v) {
  const std::size_t n = v.size();
  if (n < sizeof(std::uint64_t)) {
    for (char c : v)
      if (c == '7' || c == 'x' || c == 'X') return true;
    return false;
  }
  for (std::size_t i = 0; i + sizeof(std::uint64_t) <= n; i += sizeof(std::uint64_t))
    if (word_has_7_or_x(text::word_at(v, i))) return true;
  // The last word overlaps the words already tested when n is not a multiple of eight.
  return word_has_7_or_x(text::word_at(v, n - sizeof(std::uint64_t)));
}

// Where the first 'x' or 'X' at or after `from` is (v.size() when none): one pass for both
// letters, where a memchr for each read every value with a 7 or an x twice.
std::size_t find_x(std::string_view v, std::size_t from) {
  const std::size_t n = v.size();
#ifdef __SSE2__
  const __m128i case_bit = _mm_set1_epi8(0x20), x = _mm_set1_epi8('x');
  for (; from + 16 <= n; from += 16) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(v.data() + from));
    const auto mask =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(block, case_bit), x)));
    if (mask) return from + static_cast<std::size_t>(__builtin_ctz(mask));
  }
#endif
  for (; from < n; ++from)
    if ((v[from] | 0x20) == 'x') return from;
  return n;
}

// The significant digits of v in lower-case hex: 0x1B97 -> "1b97", 0 -> "0".
std::string hex_digits(std::uint32_t v) {
  char digits[8];
  const auto end = std::to_chars(std::begin(digits), std::end(digits), v, 16).ptr;
  return std::string(std::begin(digits), end);
}

int form_rank(ErrorForm f) {
  switch (f) {
    case ErrorForm::kMessage:
      return 0;
    case ErrorForm::kPhrase:
      return 1;
    case ErrorForm::kToolOutput:
      return 2;
    case ErrorForm::kSymbol:
      return 3;
    case ErrorForm::kHresult:
      return 4;
    case ErrorForm::kNtStatus:
      return 5;
    case ErrorForm::kHex:
      return 6;
    case ErrorForm::kDecimal:
      return 7;
  }
  return 8;
}

void split_holder(std::string_view holder, std::string& domain, std::string& user) {
  holder = trim(holder);
  // Quotes around the name, as some tools print it.
  while (!holder.empty() && (holder.front() == '"' || holder.front() == '\''))
    holder.remove_prefix(1);
  while (!holder.empty() && (holder.back() == '"' || holder.back() == '\''))
    holder.remove_suffix(1);
  const auto slash = holder.find('\\');
  if (slash == std::string_view::npos) {
    domain.clear();
    user.assign(holder);
    return;
  }
  domain.assign(holder.substr(0, slash));
  std::size_t rest = slash;
  while (rest < holder.size() && holder[rest] == '\\') ++rest;  // "DOM\\user" as escaped text
  user.assign(holder.substr(rest));
}

}  // namespace

bool Recognizer::is_status_field_name(std::string_view name) {
  const auto words = name_words(name);
  if (words.empty()) return false;
  const std::string& last = words.back();
  static constexpr std::string_view kStatusWords[] = {
      "status",      "substatus",  "error",      "errorcode", "code",     "result",
      "hresult",     "rc",         "err",        "errno",     "hr",       "ntstatus",
      "win32status", "returncode", "resultcode", "exitcode",  "lasterror"};
  bool status = false;
  for (auto k : kStatusWords)
    if (last == k) status = true;
  if (!status) return false;
  // EventCode / event.code name an event id, not a status.
  if (last == "code" && words.size() >= 2 && words[words.size() - 2] == "event") return false;
  return true;
}

bool Recognizer::is_identifier_field_name(std::string_view name) {
  const auto words = name_words(name);
  return !words.empty() && is_identifier_word(words.back());
}

Recognizer::Recognizer(const ErrorCatalog& catalog) {
  for (const ErrorInfo& e : catalog.all()) {
    if (!e.alerting) continue;
    if (e.space == ErrorSpace::kWin32 && e.code <= 0xFFFFu) {
      decimals_.push_back(&e);
      hex_targets_.push_back({e.code, &e, ErrorForm::kHex});
      hex_targets_.push_back({0x80070000u | e.code, &e, ErrorForm::kHresult});
      hex_targets_.push_back({0xC0070000u | e.code, &e, ErrorForm::kNtStatus});
    } else if (e.space == ErrorSpace::kNtStatus) {
      hex_targets_.push_back({e.code, &e, ErrorForm::kNtStatus});
    } else if (e.space == ErrorSpace::kHresult) {
      hex_targets_.push_back({e.code, &e, ErrorForm::kHresult});
    }
    TextTarget t;
    t.error = &e;
    const std::string_view tmpl = e.message_template;
    const auto first = tmpl.find(kHolderSeparator);
    if (first != std::string_view::npos) {
      t.lead = text::lowered(trim(tmpl.substr(0, first)));
      if (!t.lead.empty()) t.lead.push_back(' ');
      std::string_view after = trim(tmpl.substr(first + kHolderSeparator.size()));
      const auto second = after.find(kHolderSeparator);
      const std::string_view middle =
          second == std::string_view::npos ? after : after.substr(0, second);
      t.anchor = text::lowered(middle.substr(0, middle.find('.')));
      if (second != std::string_view::npos) {
        const std::string_view before_holder = trim(middle);
        const auto space = before_holder.rfind(' ');
        t.contact_lead =
            text::lowered(before_holder.substr(space == std::string_view::npos ? 0 : space + 1));
        t.contact_lead.push_back(' ');
        const std::string_view tail = trim(after.substr(second + kHolderSeparator.size()));
        t.contact_tail = text::lowered(tail.substr(0, tail.find('.')));
      }
    }
    for (const auto& p : e.phrases) t.phrases.push_back(text::lowered(p));
    min_symbol_length_ = std::min(min_symbol_length_, e.symbol.size());
    if (!t.anchor.empty()) min_text_length_ = std::min(min_text_length_, t.anchor.size());
    for (const auto& p : t.phrases) min_text_length_ = std::min(min_text_length_, p.size());
    // Trigger: the longest distinctive word of each phrase and anchor, without its first letter
    // (so "Logged" and "logged" both hit).
    auto add_trigger = [&](std::string_view phrase) {
      // Words that are everywhere in Windows messages make poor triggers ("logged" is in every
      // logon and logoff message).
      static constexpr std::string_view kCommon[] = {"computer", "console", "logged"};
      std::string_view best;
      std::size_t i = 0;
      while (i < phrase.size()) {
        while (i < phrase.size() && !is_alpha(phrase[i])) ++i;
        std::size_t j = i;
        while (j < phrase.size() && is_alpha(phrase[j])) ++j;
        const std::string_view w = phrase.substr(i, j - i);
        const bool common =
            std::find(std::begin(kCommon), std::end(kCommon), w) != std::end(kCommon);
        if (!common && w.size() > best.size()) best = w;
        i = j;
      }
      if (best.size() < 4) return;
      std::string trig(best.substr(1));
      if (std::find(text_triggers_.begin(), text_triggers_.end(), trig) == text_triggers_.end())
        text_triggers_.push_back(std::move(trig));
    };
    if (!t.anchor.empty()) add_trigger(t.anchor);
    for (const auto& p : t.phrases) add_trigger(p);
    texts_.push_back(std::move(t));
  }
  std::vector<NeedleSearch::Needle> triggers;
  for (const std::string& w : text_triggers_) triggers.push_back({w, false});
  trigger_search_ = NeedleSearch(std::move(triggers));
  event_filter_ = NeedleSearch(event_needles());
}

// For each form of each alerting error, a text its field holds wherever a scan recognizes it.
// An event holding none of them is recognized by no scan: most events are ruled out by one search
// of their text, where the scans cost a pass or more over every field.
std::vector<NeedleSearch::Needle> Recognizer::event_needles() const {
  std::vector<NeedleSearch::Needle> needles;
  auto add = [&](std::string text, bool any_case) {
    needles.push_back({std::move(text), any_case});
  };
  // A code in decimal, after leading zeros or none: "7063", "07063" (scan_decimals).
  for (const ErrorInfo* e : decimals_) add(std::to_string(e->code), false);
  for (const NumericTarget& t : hex_targets_) {
    // Its significant hex digits, in either case: "0x1B97", "0X00001b97" (scan_hex).
    add(hex_digits(t.value), true);
    if (t.form == ErrorForm::kHex) continue;
    // An HRESULT or NTSTATUS as ten decimal digits, unsigned or negative: "2147949463",
    // "-2147017833" (scan_decimals).
    add(std::to_string(t.value), false);
    add(std::to_string(0x100000000ull - t.value), false);
  }
  // A symbol, in any case (scan_symbols).
  for (const TextTarget& t : texts_)
    if (!t.error->symbol.empty()) add(t.error->symbol, true);
  // A trigger word, without which scan_text compares no template or phrase.
  for (const std::string& w : text_triggers_) add(w, false);
  return needles;
}

struct Recognizer::FieldScan {
  FieldId field;
  std::string_view value;
  bool is_message;
  std::vector<Recognition>& out;
  int status_name = -1;  // lazily: does the field name say it holds a status code?
  int id_name = -1;      // lazily: does it say it holds an identifier?

  bool status_field() {
    if (status_name < 0) status_name = !is_message && is_status_field_name(field_name(field));
    return status_name == 1;
  }
  bool identifier_field() {
    if (id_name < 0) id_name = !is_message && is_identifier_field_name(field_name(field));
    return id_name == 1;
  }

  void add(const ErrorInfo* error, ErrorForm form, std::string_view matched,
           std::string_view holder = {}) {
    for (Recognition& r : out) {
      if (r.error == error && r.field == field) {
        if (form_rank(form) < form_rank(r.form)) {
          r.form = form;
          r.matched.assign(matched);
          if (!holder.empty()) split_holder(holder, r.holder_domain, r.holder_user);
        }
        return;
      }
    }
    Recognition r;
    r.error = error;
    r.form = form;
    r.field = field;
    r.matched.assign(matched);
    if (!holder.empty()) split_holder(holder, r.holder_domain, r.holder_user);
    out.push_back(std::move(r));
  }
};

void Recognizer::scan_decimals(FieldScan& scan) const {
  const std::string_view v = scan.value;
  const std::size_t n = v.size();
  std::size_t from = 0;
  while (from < n) {
    const void* hit = std::memchr(v.data() + from, '7', n - from);
    if (!hit) break;
    const std::size_t i = static_cast<std::size_t>(static_cast<const char*>(hit) - v.data());
    std::size_t start = i, end = i;
    while (start > 0 && is_digit(v[start - 1])) --start;
    while (end < n && is_digit(v[end])) ++end;
    from = end;
    // Whole tokens only: not part of an identifier, hex literal, version or decimal number.
    if (start > 0 && (is_word(v[start - 1]) || v[start - 1] == '.')) continue;
    if (end < n && (is_word(v[end]) || (v[end] == '.' && end + 1 < n && is_digit(v[end + 1]))))
      continue;
    bool negative = start > 0 && v[start - 1] == '-';
    // "KB-7063", "RDP-Tcp-7063": a hyphen after a word is part of a name, not a sign.
    if (negative && start > 1 && is_word(v[start - 2])) continue;
    const std::string_view digits = v.substr(start, end - start);
    std::uint64_t number = 0;
    if (std::from_chars(digits.data(), digits.data() + digits.size(), number).ec != std::errc())
      continue;
    if (digits.size() <= 5 && !negative) {
      for (const ErrorInfo* e : decimals_) {
        if (number != e->code) continue;
        if (trim(v) == digits && scan.status_field()) {
          scan.add(e, ErrorForm::kDecimal, digits);
        } else if (in_error_context(v, start, end)) {
          const std::size_t ctx = word_before_start(v, start);
          std::size_t stop = end;
          if (stop < n && (v[stop] == ']' || v[stop] == ')')) ++stop;
          scan.add(e, ErrorForm::kToolOutput, v.substr(ctx, stop - ctx));
        }
      }
    } else if (digits.size() == 10) {
      // HRESULT / NTSTATUS printed as decimal: signed (-2147017833) anywhere; unsigned only where
      // a status is expected.
      std::uint32_t u;
      if (negative) {
        if (number > 0x80000000ull) continue;
        u = static_cast<std::uint32_t>(0x100000000ull - number);
      } else {
        if (number > 0xFFFFFFFFull) continue;
        const bool whole_status = trim(v) == digits && scan.status_field();
        if (!whole_status && !in_error_context(v, start, end)) continue;
        u = static_cast<std::uint32_t>(number);
      }
      for (const NumericTarget& t : hex_targets_) {
        if (t.value != u || t.form == ErrorForm::kHex) continue;
        const std::size_t s = negative ? start - 1 : start;
        scan.add(t.error, t.form, v.substr(s, end - s));
      }
    }
  }
}

void Recognizer::scan_hex(FieldScan& scan) const {
  const std::string_view v = scan.value;
  const std::size_t n = v.size();
  std::size_t from = 0;
  while (from < n) {
    const std::size_t i = find_x(v, from);
    if (i == n) break;
    from = i + 1;
    if (i == 0 || v[i - 1] != '0') continue;
    const std::size_t start = i - 1;
    if (start > 0 && is_word(v[start - 1])) continue;
    // The digits are read and their value taken in one pass; leading zeros do not count.
    std::size_t end = i + 1;
    std::uint32_t value = 0;
    std::size_t significant = 0;
    for (int d; end < n && (d = hex_value(v[end])) >= 0; ++end) {
      if (significant == 0 && d == 0) continue;
      ++significant;
      value = value << 4 | static_cast<std::uint32_t>(d);
    }
    if (end == i + 1 || (end < n && is_word(v[end]))) continue;
    from = end;
    if (significant > 8) continue;
    for (const NumericTarget& t : hex_targets_) {
      if (t.value != value) continue;
      // A short hex number is also what logon ids, handles and process ids look like.
      if (t.form == ErrorForm::kHex &&
          (scan.identifier_field() || is_identifier_word(word_before(v, start))))
        continue;
      scan.add(t.error, t.form, v.substr(start, end - start));
    }
  }
}

void Recognizer::scan_symbols(FieldScan& scan) const {
  const std::string_view v = scan.value;
  const std::size_t n = v.size();
  std::size_t from = 0;
  while (from < n) {
    const void* hit = std::memchr(v.data() + from, '_', n - from);
    if (!hit) break;
    const std::size_t p = static_cast<std::size_t>(static_cast<const char*>(hit) - v.data());
    from = p + 1;
    // "_CTX_" in any case: the part every alerting symbol shares.
    if (p + 5 > n || lower(v[p + 1]) != 'c' || lower(v[p + 2]) != 't' || lower(v[p + 3]) != 'x' ||
        v[p + 4] != '_')
      continue;
    std::size_t start = p, end = p;
    while (start > 0 && is_word(v[start - 1])) --start;
    while (end < n && is_word(v[end])) ++end;
    from = end;
    const std::string_view token = v.substr(start, end - start);
    for (const TextTarget& t : texts_) {
      const std::string& sym = t.error->symbol;
      if (token.size() != sym.size()) continue;
      bool same = true;
      for (std::size_t k = 0; k < sym.size() && same; ++k) same = lower(token[k]) == lower(sym[k]);
      if (same) scan.add(t.error, ErrorForm::kSymbol, token);
    }
  }
}

void Recognizer::scan_text(FieldScan& scan) const {
  if (!trigger_search_.found_in(scan.value)) return;
  // Whitespace runs collapse to one space so rewrapped text matches; `folded` is the same text in
  // lower case, position for position.
  std::string text, folded;
  text.reserve(scan.value.size());
  for (std::size_t i = 0; i < scan.value.size(); ++i) {
    const char c = scan.value[i];
    if (is_space(c)) {
      if (!text.empty() && text.back() != ' ') text.push_back(' ');
    } else {
      text.push_back(c);
    }
  }
  folded = text::lowered(text);
  for (const TextTarget& t : texts_) {
    bool message = false;
    if (!t.anchor.empty()) {
      for (std::size_t a = folded.find(t.anchor); a != std::string::npos;
           a = folded.find(t.anchor, a + 1)) {
        std::string_view holder;
        std::size_t match_start = a;
        if (!t.lead.empty() && a > 0) {
          const std::size_t window = a > 300 ? a - 300 : 0;
          const auto lead = folded.rfind(t.lead, a - 1);
          if (lead != std::string::npos && lead >= window) {
            holder =
                trim(std::string_view(text).substr(lead + t.lead.size(), a - lead - t.lead.size()));
            match_start = lead;
          }
        }
        std::size_t match_end = a + t.anchor.size();
        std::string_view contact;
        if (!t.contact_lead.empty()) {
          const auto c = folded.find(t.contact_lead, match_end);
          if (c != std::string::npos && c - match_end < 200) {
            const auto tail = folded.find(t.contact_tail, c + t.contact_lead.size());
            if (tail != std::string::npos && tail - c < 300) {
              contact = trim(std::string_view(text).substr(c + t.contact_lead.size(),
                                                           tail - c - t.contact_lead.size()));
              match_end = tail + t.contact_tail.size();
            }
          }
        }
        if (holder.empty()) holder = contact;
        if (holder.empty() || holder.size() > 256) continue;
        scan.add(t.error, ErrorForm::kMessage,
                 std::string_view(text).substr(match_start, match_end - match_start), holder);
        message = true;
        break;
      }
    }
    if (message) continue;
    for (const auto& phrase : t.phrases) {
      const auto p = folded.find(phrase);
      if (p != std::string::npos) {
        scan.add(t.error, ErrorForm::kPhrase, std::string_view(text).substr(p, phrase.size()));
        break;
      }
    }
  }
}

void Recognizer::scan_value(FieldId field, std::string_view value, bool is_message,
                            std::vector<Recognition>& out) const {
  if (value.size() < 4) return;
  FieldScan scan{field, value, is_message, out};
  // Every numeric form has a '7' or an 'x'; most short values (names, SIDs without 7, flags) have
  // neither. Longer values (messages) nearly always do: memchr finds them as fast.
  if (value.size() > 64 || has_7_or_x(value)) {
    scan_decimals(scan);
    scan_hex(scan);
  }
  if (value.size() >= min_symbol_length_) scan_symbols(scan);
  if (value.size() >= min_text_length_) scan_text(scan);
}

std::vector<Recognition> Recognizer::recognize(const Event& event) const {
  if (!event_filter_.found_in(event.held_text())) return {};
  return recognize_every_field(event);
}

std::vector<Recognition> Recognizer::recognize_every_field(const Event& event) const {
  std::vector<Recognition> out;
  for (const Field& f : event.fields()) scan_value(f.id, event.value(f), false, out);
  if (!event.message().empty()) scan_value(fields::Message, event.message(), true, out);
  if (out.size() > 1) {
    std::stable_sort(out.begin(), out.end(), [](const Recognition& a, const Recognition& b) {
      return form_rank(a.form) < form_rank(b.form);
    });
  }
  return out;
}

}  // namespace sw::errors
