// FieldNameCache: whatever order names come in, the id of a name is the process-wide one.
#include "core/field_name_cache.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace sw {
namespace {

// Events of a few shapes (the same names in the same order), shapes that share a prefix and
// then part, names in new orders, and enough new names to make the cache grow more than once.
TEST(FieldNameCache, GivesTheInternedIdWhateverTheOrderOfNames) {
  std::vector<std::vector<std::string>> shapes = {
      {"TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId", "LogonType"},
      {"TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId"},
      {"User", "SessionID", "Address"},
      {"param1", "param2", "User"}};
  std::mt19937 random(7063);
  FieldNameCache cache;
  int fresh = 0;
  for (int event = 0; event < 5000; ++event) {
    std::vector<std::string> names = shapes[random() % shapes.size()];
    if (event % 7 == 0) std::shuffle(names.begin(), names.end(), random);
    if (event % 11 == 0) names.push_back("fresh.name." + std::to_string(fresh++));
    for (const std::string& name : names) {
      ASSERT_EQ(cache.get(name), intern_field(name)) << name << " in event " << event;
    }
  }
  EXPECT_GT(fresh, 300);  // past 128 and 256 names: the slots were rebuilt twice
}

// A name that is a prefix of the expected one, or equal but for the last byte, is not taken for
// it.
TEST(FieldNameCache, AGuessIsComparedWhole) {
  FieldNameCache cache;
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(cache.get("a"), intern_field("a"));
    EXPECT_EQ(cache.get("LogonType"), intern_field("LogonType"));
  }
  EXPECT_EQ(cache.get("a"), intern_field("a"));
  EXPECT_EQ(cache.get("Logon"), intern_field("Logon"));
  EXPECT_EQ(cache.get("a"), intern_field("a"));
  EXPECT_EQ(cache.get("LogonTypf"), intern_field("LogonTypf"));
  EXPECT_NE(intern_field("Logon"), intern_field("LogonType"));
}

// Names are compared and hashed eight bytes at a time: a name that differs from the guess (or
// from a name hashed before) in one byte, at any place of a name of any length, is its own name.
TEST(FieldNameCache, ADifferenceInAnyByteOfAnyLengthIsSeen) {
  FieldNameCache cache;
  for (std::size_t length = 1; length <= 40; ++length) {
    const std::string name(length, 'n');
    for (std::size_t at = 0; at < length; ++at) {
      std::string other = name;
      other[at] = 'o';
      for (int round = 0; round < 2;
           ++round) {  // learnt as the guess after "before" the first time
        ASSERT_EQ(cache.get("before"), intern_field("before"));
        ASSERT_EQ(cache.get(name), intern_field(name)) << name;
        ASSERT_EQ(cache.get("before"), intern_field("before"));
        ASSERT_EQ(cache.get(other), intern_field(other)) << other;
      }
    }
  }
}

}  // namespace
}  // namespace sw
