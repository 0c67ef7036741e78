// PackedEvent: an event held in one allocation gives back exactly the event packed.
#include "core/packed_event.hpp"

#include <gtest/gtest.h>

#include <string>

#include "unit/decode_jsonl/event_testing.hpp"

namespace sw {
namespace {

// Every member of an Event set to a value of its own.
Event every_member_set() {
  static const int catalog_entry = 0;
  Event e;
  e.event_id = 7063;
  e.qualifiers = 16384;
  e.has_qualifiers = true;
  e.version = 2;
  e.level = 4;
  e.task = 12544;
  e.opcode = 1;
  e.keywords = 0x8020000000000000ull;
  e.time_created = 132571456681944370;
  e.record_id = 1698482;
  e.process_id = 636;
  e.thread_id = 4892;
  e.source_offset = 77;
  e.found_error = Event::FoundError{true, reinterpret_cast<const ErrorInfo*>(&catalog_entry),
                                    static_cast<ErrorForm>(3)};
  e.set_provider_name("Microsoft-Windows-Security-Auditing");
  e.set_provider_guid("{54849625-5478-4994-a5ba-3e3b0328c30d}");
  e.set_channel("Security");
  e.set_computer("srv-0176.contoso.local");
  e.set_user_sid("S-1-5-18");
  e.set_activity_id("{11111111-2222-3333-4444-555555555555}");
  e.set_related_activity_id("{66666666-7777-8888-9999-000000000000}");
  e.set_message("The user CONTOSO\\alice is already logged on to the console of this computer.");
  e.set_user_data_name("EventXML");
  e.set_origin("/var/log/forwarded/security.jsonl");
  e.add_field("TargetUserName", "yusuf.tanaka");
  e.add_field("TargetLogonId", "0x0000000000639A6E0");  // stored canonical: 0x639a6e0
  e.add_field("Param1", "CONTOSO", FieldOrigin::kUserData);
  e.set_field(intern_field("sessionwatch.console_user"), "CONTOSO\\alice");
  return e;
}

// The Windows event (testing::expect_same_event), and what an Event carries beside it.
void expect_same(const Event& a, const Event& b) {
  testing::expect_same_event(a, b);
  EXPECT_EQ(a.origin(), b.origin());
  EXPECT_EQ(a.source_offset, b.source_offset);
  EXPECT_EQ(a.found_error.searched, b.found_error.searched);
  EXPECT_EQ(a.found_error.error, b.found_error.error);
  EXPECT_EQ(a.found_error.form, b.found_error.form);
  EXPECT_EQ(testing::payload(a), testing::payload(b));  // in order, each with its origin
  // Lookups go through the field bits: a field the packing lost would be missed here.
  for (const Field& f : a.fields()) EXPECT_EQ(a.payload(f.id), b.payload(f.id));
  EXPECT_FALSE(b.payload("NotAField").has_value());
}

TEST(PackedEvent, GivesBackEveryMemberOfTheEventPacked) {
  const Event original = every_member_set();
  const PackedEvent packed(original);
  Event out;
  packed.unpack(out);
  expect_same(original, out);
  EXPECT_EQ(out.payload("TargetLogonId"), "0x639a6e0");
}

TEST(PackedEvent, UnpackedOverABiggerEventLeavesNothingOfIt) {
  Event big = every_member_set();
  big.add_field("CommandLine", std::string(4000, 'x'));
  Event small;
  small.time_created = 5;
  small.set_computer("ws-01");
  small.add_field("LogonType", "10");
  Event out;
  PackedEvent(big).unpack(out);
  PackedEvent(small).unpack(out);
  expect_same(small, out);
  EXPECT_EQ(out.message(), "");
  EXPECT_FALSE(out.found_error.searched);
  EXPECT_FALSE(out.payload("CommandLine").has_value());
}

TEST(PackedEvent, ShowsTimeRecordComputerAndChannelWithoutUnpacking) {
  const Event original = every_member_set();
  const PackedEvent packed(original);
  EXPECT_EQ(packed.time(), original.time_created);
  EXPECT_EQ(packed.record_id(), original.record_id);
  EXPECT_EQ(packed.computer(), "srv-0176.contoso.local");
  EXPECT_EQ(packed.channel(), "Security");
}

TEST(PackedEvent, TakesLessThanTheEventItPacks) {
  // The point of packing: what a reorder window holds per event.
  const Event original = every_member_set();
  const PackedEvent packed(original);
  EXPECT_LT(packed.footprint(), original.footprint());
  EXPECT_LT(packed.footprint(), sizeof(PackedEvent) + sizeof(Event) + original.buffer_size() +
                                    original.fields().size() * sizeof(Field));
}

TEST(PackedEvent, PacksIntoTheStorageGivenWhenItIsLargeEnough) {
  const Event big = every_member_set();
  Event small;
  small.set_computer("ws-1");
  PackedEvent::Storage storage = PackedEvent(big).take_storage();
  const std::byte* const allocation = storage.bytes.get();
  ASSERT_GE(storage.capacity, PackedEvent::packed_size(big));
  PackedEvent reused(small, std::move(storage));
  EXPECT_EQ(reused.footprint(), PackedEvent(big).footprint()) << "counted as the storage it holds";
  Event out = every_member_set();
  reused.unpack(out);
  expect_same(small, out);
  EXPECT_EQ(PackedEvent(std::move(reused)).take_storage().bytes.get(), allocation);

  PackedEvent::Storage too_small = PackedEvent(small).take_storage();
  const PackedEvent grown(big, std::move(too_small));
  EXPECT_GE(grown.footprint(), sizeof(PackedEvent) + PackedEvent::packed_size(big));
  grown.unpack(out);
  expect_same(big, out);
}

TEST(PackedEvent, AnEmptyEventRoundTrips) {
  const Event empty;
  Event out = every_member_set();
  PackedEvent(empty).unpack(out);
  expect_same(empty, out);
}

}  // namespace
}  // namespace sw
