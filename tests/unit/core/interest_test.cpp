// EventInterest: what a stage needs per channel, and the union of two stages' needs.
#include "sessionwatch/interest.hpp"

#include <gtest/gtest.h>

namespace sw {
namespace {

using Ids = std::vector<std::uint32_t>;

TEST(EventInterest, StartsEmptyAndNamesWhatItAdds) {
  EventInterest interest;
  EXPECT_FALSE(interest.accepts("Security", 4624));
  EXPECT_EQ(interest.event_ids("Security"), Ids{});
  interest.add("Security", 4634);
  interest.add("Security", 4624);
  interest.add("security", 4624);
  EXPECT_TRUE(interest.accepts("SECURITY", 4624));
  EXPECT_FALSE(interest.accepts("Security", 4688));
  EXPECT_FALSE(interest.accepts("System", 4624));
  EXPECT_EQ(interest.event_ids("Security"), (Ids{4624, 4634}));
  EXPECT_FALSE(interest.is_everything());
  EXPECT_EQ(interest.describe(), "security: 4624 4634; other channels: none");
}

TEST(EventInterest, AWholeChannelSwallowsItsIds) {
  EventInterest interest;
  interest.add("System", 7001);
  interest.add_channel("System");
  interest.add("System", 7002);
  EXPECT_EQ(interest.event_ids("System"), std::nullopt);
  EXPECT_TRUE(interest.accepts("system", 12345));
}

TEST(EventInterest, AnIdEverywhereReachesNamedAndUnnamedChannels) {
  EventInterest interest;
  interest.add("Security", 4624);
  interest.add_everywhere(1102);
  EXPECT_EQ(interest.event_ids("Security"), (Ids{1102, 4624}));
  EXPECT_EQ(interest.event_ids("Application"), Ids{1102});
  // A channel named after the fact starts from what every channel needs.
  interest.add("System", 104);
  EXPECT_EQ(interest.event_ids("System"), (Ids{104, 1102}));
}

TEST(EventInterest, EverythingNarrowedKeepsTheOtherChannelsWhole) {
  EventInterest interest = EventInterest::everything();
  EXPECT_TRUE(interest.is_everything());
  interest.narrow("Security", {4624, 4625});
  EXPECT_FALSE(interest.is_everything());
  EXPECT_EQ(interest.event_ids("Security"), (Ids{4624, 4625}));
  EXPECT_EQ(interest.event_ids("ForwardedEvents"), std::nullopt);
  EXPECT_FALSE(interest.accepts("Security", 5156));
}

TEST(EventInterest, UnionIsChannelByChannel) {
  EventInterest tracker = EventInterest::everything();
  tracker.narrow("Security", {4624, 4634});
  EventInterest rules;
  rules.add("Security", 4688);
  rules.add("Application", 1000);
  rules.add_everywhere(4104);

  EventInterest both = tracker;
  both.merge(rules);
  EXPECT_EQ(both.event_ids("Security"), (Ids{4104, 4624, 4634, 4688}));
  EXPECT_EQ(both.event_ids("Application"), std::nullopt);  // the tracker side reads it whole
  EXPECT_EQ(both.event_ids("System"), std::nullopt);

  // The other way round gives the same needs.
  EventInterest reversed = rules;
  reversed.merge(tracker);
  for (const char* channel : {"Security", "Application", "System", "Setup"}) {
    EXPECT_EQ(reversed.event_ids(channel), both.event_ids(channel)) << channel;
  }
}

TEST(EventInterest, UnionWithEverythingIsEverything) {
  EventInterest some;
  some.add("Security", 4624);
  some.merge(EventInterest::everything());
  EXPECT_TRUE(some.is_everything());
  EXPECT_TRUE(some.accepts("Security", 1));
  EXPECT_EQ(some.describe(), "other channels: all");
}

TEST(EventInterest, UnionOfTwoNarrowInterestsStaysNarrow) {
  EventInterest a;
  a.add("Security", 4624);
  EventInterest b;
  b.add("Microsoft-Windows-TerminalServices-LocalSessionManager/Operational", 21);
  a.merge(b);
  EXPECT_EQ(a.event_ids("Security"), Ids{4624});
  EXPECT_EQ(a.event_ids("Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"),
            Ids{21});
  EXPECT_EQ(a.event_ids("System"), Ids{});
  EXPECT_EQ(a.named_channels().size(), 2u);
}

}  // namespace
}  // namespace sw
