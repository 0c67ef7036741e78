// Detector state split into independent parts (one per computer, one per correlation group), so
// that a checkpoint writes only the parts that changed since the previous one: its cost follows
// the events since then, not the size of the whole state.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sw {

// A part's encoded text, shared and immutable: the detector may keep the text of a part that has
// not changed and hand the same one to every checkpoint, which then neither encodes nor copies
// it on the detection thread. Empty (false) when the part is gone.
class PartText {
 public:
  PartText() = default;
  PartText(std::nullopt_t) {}
  PartText(std::string text) : text_(std::make_shared<const std::string>(std::move(text))) {}
  PartText(const char* text) : PartText(std::string(text)) {}
  PartText(std::shared_ptr<const std::string> text) : text_(std::move(text)) {}

  explicit operator bool() const { return text_ != nullptr; }
  const std::string& operator*() const { return *text_; }
  const std::string* operator->() const { return text_.get(); }
  const std::shared_ptr<const std::string>& shared() const { return text_; }

 private:
  std::shared_ptr<const std::string> text_;
};

struct StatePart {
  std::string key;  // unique across the detector ("session/...", "rules/...")
  PartText value;   // none: the part is gone (host evicted, group fired)
  // When set, the part's text is made by this as the checkpoint writes it, and dropped once
  // written (`value` is then unused): the last checkpoint of a detector holds one part's text
  // at a time rather than the whole state's. Its state must stay as it is until then.
  std::function<PartText()> encode_when_written;
};
using StateParts = std::vector<StatePart>;
// Every part, as read back from a checkpoint.
using StatePartMap = std::map<std::string, std::string>;

}  // namespace sw
