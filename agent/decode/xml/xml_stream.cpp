// Splits a stream of Event XML into single <Event> elements without building a DOM of the whole
// stream, so memory stays bounded by the largest event whatever the size of the input.
#include <cstdint>
#include <cstring>
#include <string>

#include "decode/xml/xml_event_decoder.hpp"
#include "sessionwatch/decode.hpp"
#include "sessionwatch/utf8.hpp"

namespace sw {
namespace {

constexpr std::uint64_t kProgressEveryEvents = 4096;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_name_end(char c) {
  return is_space(c) || c == '>' || c == '/';
}

// Length of the tag name starting at data[pos] (just after '<' or '</').
std::size_t name_length(std::string_view data, std::size_t pos) {
  std::size_t end = pos;
  while (end < data.size() && !is_name_end(data[end])) ++end;
  return end - pos;
}

bool local_name_is(std::string_view qualified, std::string_view local) {
  const auto colon = qualified.rfind(':');
  if (colon != std::string_view::npos) qualified.remove_prefix(colon + 1);
  return qualified == local;
}

// The name of the tag opened at data[lt] == '<', without the '/' of an end tag.
std::string_view tag_name(std::string_view data, std::size_t lt, bool& is_end) {
  std::size_t pos = lt + 1;
  is_end = pos < data.size() && data[pos] == '/';
  if (is_end) ++pos;
  return data.substr(pos, name_length(data, pos));
}

// Position just past the '>' closing the tag that starts at `lt`, honouring quoted attribute
// values; npos when the input ends first.
std::size_t tag_end(std::string_view data, std::size_t lt) {
  char quote = 0;
  for (std::size_t i = lt + 1; i < data.size(); ++i) {
    const char c = data[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '>') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

std::size_t find_after(std::string_view data, std::size_t from, std::string_view what) {
  const auto at = data.find(what, from);
  return at == std::string_view::npos ? std::string_view::npos : at + what.size();
}

// Next '<Event' start tag at or after `from` (prefixed forms are found by the main scanner only).
std::size_t next_event_start(std::string_view data, std::size_t from) {
  while (true) {
    const auto at = data.find("<Event", from);
    if (at == std::string_view::npos) return at;
    if (at + 6 < data.size() && is_name_end(data[at + 6])) return at;
    from = at + 6;
  }
}

// PowerShell 5's `wevtutil qe ... /f:xml > file` writes UTF-16 with a BOM. Lone surrogates become
// U+FFFD, like every other invalid text.
std::string utf16_to_utf8(std::string_view data, bool little_endian) {
  std::string out;
  out.reserve(data.size() / 2);
  auto unit = [&](std::size_t i) -> std::uint32_t {
    const auto a = static_cast<std::uint8_t>(data[i]);
    const auto b = static_cast<std::uint8_t>(data[i + 1]);
    return little_endian ? (a | (b << 8)) : ((a << 8) | b);
  };
  for (std::size_t i = 0; i + 1 < data.size(); i += 2) {
    std::uint32_t cp = unit(i);
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < data.size()) {
      const std::uint32_t low = unit(i + 2);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        i += 2;
      } else {
        cp = 0xFFFD;
      }
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      cp = 0xFFFD;
    }
    append_utf8_code_point(cp, out);
  }
  return out;
}

class StreamSplitter {
 public:
  StreamSplitter(std::string_view data, std::string_view origin, EventSink& sink)
      : data_(data), origin_(origin), sink_(sink) {}

  DecodeStats run() {
    stats_.bytes_read = data_.size();
    std::size_t pos = 0;
    if (data_.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
    while (pos < data_.size()) {
      const std::size_t lt = data_.find('<', pos);
      if (lt == std::string_view::npos) {
        outside_events(pos, data_.size());
        break;
      }
      if (!outside_events(pos, lt)) {
        pos = resync(lt);
        continue;
      }
      pos = markup(lt);
    }
    if (events_seen_ == 0 && !saw_wrapper_ && stats_.records_bad == 0) {
      // Nothing at all: say so, but it is no lost record.
      sink_.on_error(DecodeError{std::string(origin_), 0, "no <Event> element in the input"});
    }
    sink_.on_progress(data_.size(), data_.size());
    return stats_;
  }

 private:
  // Text between top-level tags must be whitespace; anything else is reported once and skipped.
  bool outside_events(std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      if (!is_space(data_[i])) {
        report(i, "unexpected text outside <Event>");
        return false;
      }
    }
    return true;
  }

  // Handles the tag at `lt`; returns where to continue scanning.
  std::size_t markup(std::size_t lt) {
    const std::string_view rest = data_.substr(lt);
    if (rest.starts_with("<?")) return end_or_report(lt, find_after(data_, lt, "?>"));
    if (rest.starts_with("<!--")) return end_or_report(lt, find_after(data_, lt, "-->"));
    if (rest.starts_with("<!")) return end_or_report(lt, tag_end(data_, lt));
    bool is_end = false;
    const std::string_view name = tag_name(data_, lt, is_end);
    if (local_name_is(name, "Events")) {
      saw_wrapper_ = true;
      return end_or_report(lt, tag_end(data_, lt));
    }
    if (!is_end && local_name_is(name, "Event")) return event(lt, name);
    report(lt, std::string("unexpected <") + (is_end ? "/" : "") + printable(name) +
                   "> outside <Event>");
    return resync(lt + 1);
  }

  std::size_t end_or_report(std::size_t lt, std::size_t end) {
    if (end != std::string_view::npos) return end;
    report(lt, "truncated markup at the end of the input");
    return data_.size();
  }

  // An <Event> starts at `start`: find its end tag and decode what lies between.
  std::size_t event(std::size_t start, std::string_view name) {
    ++events_seen_;
    const std::size_t open_end = tag_end(data_, start);
    if (open_end == std::string_view::npos) {
      report(start, "truncated <Event>: the input ends inside its start tag");
      return data_.size();
    }
    std::size_t end = std::string_view::npos;
    if (data_[open_end - 2] == '/') {
      end = open_end;
    } else {
      std::size_t scan = open_end;
      while (true) {
        const std::size_t lt = data_.find('<', scan);
        if (lt == std::string_view::npos) {
          report(start,
                 "truncated <Event>: no </" + printable(name) + "> before the end of the input");
          return data_.size();
        }
        bool is_end = false;
        const std::string_view inner = tag_name(data_, lt, is_end);
        if (inner == name) {
          if (!is_end) {
            report(start, "truncated <Event>: another <Event> starts before its end tag");
            return lt;
          }
          end = tag_end(data_, lt);
          if (end == std::string_view::npos) {
            report(start, "truncated <Event>: the input ends inside its end tag");
            return data_.size();
          }
          break;
        }
        scan = lt + 1;
      }
    }
    decode(start, end);
    return end;
  }

  void decode(std::size_t start, std::size_t end) {
    std::size_t offset = 0;
    if (!xml_detail::decode_event(data_.substr(start, end - start), buffer_, event_, error_,
                                  offset)) {
      report(start + offset, error_);
      return;
    }
    event_.set_origin(origin_);
    event_.source_offset = events_seen_;
    ++stats_.records_read;
    sink_.on_event(event_);
    if (events_seen_ % kProgressEveryEvents == 0) sink_.on_progress(end, data_.size());
  }

  std::size_t resync(std::size_t from) {
    const std::size_t next = next_event_start(data_, from);
    return next == std::string_view::npos ? data_.size() : next;
  }

  void report(std::size_t position, std::string reason) {
    ++stats_.records_bad;
    sink_.on_error(DecodeError{std::string(origin_), position, std::move(reason)});
  }

  static std::string printable(std::string_view name) {
    std::string out;
    for (char c : name.substr(0, 64)) {
      const auto u = static_cast<unsigned char>(c);
      out.push_back(u >= 0x20 && u < 0x7F ? c : '?');
    }
    return out;
  }

  std::string_view data_;
  std::string_view origin_;
  EventSink& sink_;
  DecodeStats stats_;
  Event event_;
  std::string buffer_;
  std::string error_;
  std::uint64_t events_seen_ = 0;
  bool saw_wrapper_ = false;
};

}  // namespace

DecodeStats decode_xml_stream(std::string_view data, std::string_view origin, EventSink& sink) {
  const bool utf16le = data.starts_with("\xFF\xFE");
  const bool utf16be = data.starts_with("\xFE\xFF");
  if (utf16le || utf16be) {
    // Byte offsets in errors then refer to the UTF-8 conversion, not the original bytes.
    const std::string utf8 = utf16_to_utf8(data.substr(2), utf16le);
    DecodeStats stats = StreamSplitter(utf8, origin, sink).run();
    stats.bytes_read = data.size();
    return stats;
  }
  return StreamSplitter(data, origin, sink).run();
}

}  // namespace sw
