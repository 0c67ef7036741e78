// The Kafka input (`type: kafka`): a consumer in a group reads Winlogbeat/NXLog JSON or Event XML
// messages from topics, on a thread of its own, and hands the detection thread one batch per
// partition, with the offset after its last message as that partition's checkpoint.
//
// The contract with the producers: events are keyed by computer, so every event of a computer is
// in one partition, and each relay of the group sees all of a computer's events. Offsets are
// committed to the broker only from committed(), once the alerts of the events before them are
// in every spool and the state holding them is written: a relay killed at any point leaves its
// partitions at offsets whose events are fully accounted for (its successor may raise some
// alerts again, with the same event.id, never miss one).
//
// A partition's session state follows it: see partition_state.hpp.
#pragma once

#include <memory>
#include <string>

#include "daemon/input.hpp"

namespace sw::daemon {

// At most this many events wait between the consumer thread and the detection thread; beyond it
// the consumer waits (and Kafka keeps the rest).
inline constexpr std::size_t kKafkaMaxPendingEvents = 20'000;

// Off builds without librdkafka: nullptr and `error` says so.
std::unique_ptr<Input> make_kafka_input(const InputConfig& config, std::size_t index,
                                        const EventInterest& needed, std::string& error);

}  // namespace sw::daemon
