#include "session/sid_name_map.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sw::session_detail {
namespace {

std::string sid_of(int rid) {
  return "S-1-5-21-3623811015-3361044348-30300820-" + std::to_string(rid);
}

TEST(SidNameMap, FindsNothingBeforeAnySidIsNamed) {
  SidNameMap map;
  EXPECT_EQ(map.find(sid_of(1001)), nullptr);
  EXPECT_TRUE(map.empty());
}

TEST(SidNameMap, ReportsAChangeOnlyForANewSidOrANewName) {
  SidNameMap map;
  const SidNameMap::Entry* added = map.assign(sid_of(1001), "CONTOSO", "alice");
  ASSERT_NE(added, nullptr);
  EXPECT_EQ(added->sid.get(), sid_of(1001));
  EXPECT_EQ(map.assign(sid_of(1001), "CONTOSO", "alice"), nullptr);
  const SidNameMap::Entry* renamed = map.assign(sid_of(1001), "CONTOSO", "alice.smith");
  ASSERT_NE(renamed, nullptr);
  EXPECT_EQ(renamed->name.user.get(), "alice.smith");
  EXPECT_EQ(map.size(), 1u);
  const SidNameMap::Entry* found = map.find(sid_of(1001));
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->name.domain.get(), "CONTOSO");
  EXPECT_EQ(found->name.user.get(), "alice.smith");
}

TEST(SidNameMap, KeepsEverySidThroughGrowthInTheOrderFirstNamed) {
  SidNameMap map;
  for (int rid = 0; rid < 3000; ++rid)
    ASSERT_NE(map.assign(sid_of(rid), "CONTOSO", "user" + std::to_string(rid)), nullptr);
  ASSERT_EQ(map.size(), 3000u);
  for (int rid = 0; rid < 3000; ++rid) {
    const SidNameMap::Entry* e = map.find(sid_of(rid));
    ASSERT_NE(e, nullptr) << rid;
    EXPECT_EQ(e->name.user.get(), "user" + std::to_string(rid));
    EXPECT_EQ(map.entries()[static_cast<std::size_t>(rid)].sid.get(), sid_of(rid));
  }
  EXPECT_EQ(map.find(sid_of(3000)), nullptr);
  // A prefix or an extension of a known SID is another SID.
  EXPECT_EQ(map.find(sid_of(5).substr(0, sid_of(5).size() - 1)), nullptr);
  EXPECT_EQ(map.find(sid_of(2999) + "9"), nullptr);
}

TEST(SidNameMap, ForgetsEverythingWhenCleared) {
  SidNameMap map;
  map.assign(sid_of(1), "CONTOSO", "alice");
  map.clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.find(sid_of(1)), nullptr);
  ASSERT_NE(map.assign(sid_of(1), "CONTOSO", "bob"), nullptr);
  EXPECT_EQ(map.find(sid_of(1))->name.user.get(), "bob");
}

TEST(SidNameMap, RestoresEntriesAndReplacesTheNameOfAKnownSid) {
  SidNameMap map;
  map.assign(SharedText(sid_of(7)),
             {SharedText(std::string("CONTOSO")), SharedText(std::string("carol"))});
  map.assign(SharedText(sid_of(7)),
             {SharedText(std::string("FABRIKAM")), SharedText(std::string("carol"))});
  ASSERT_EQ(map.size(), 1u);
  EXPECT_EQ(map.find(sid_of(7))->name.domain.get(), "FABRIKAM");
  EXPECT_EQ(map.assign(sid_of(7), "FABRIKAM", "carol"), nullptr);
}

}  // namespace
}  // namespace sw::session_detail
