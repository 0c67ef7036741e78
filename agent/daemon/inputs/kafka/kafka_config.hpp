// The Kafka input's own keys (`type: kafka`): brokers, consumer group, topics, where a new group
// starts, TLS/SASL, and the folder where partitions hand their session state over.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "daemon/input_plugin.hpp"
#include "forward/net/endpoints.hpp"
#include "sessionwatch/forward.hpp"

namespace sw::daemon {

struct KafkaSasl {
  std::string mechanism;  // PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512; empty: no SASL
  std::string username;
  std::string password;  // from `password` or `password_file`; never logged
  friend bool operator==(const KafkaSasl&, const KafkaSasl&) = default;
};

struct KafkaInputOptions final : InputOptions {
  std::vector<std::string> brokers;  // host:port, the bootstrap list
  std::string group_id;
  std::vector<std::string> topics;
  // Where a group with no committed offset on a partition starts: the oldest kept message
  // (`earliest`, the default: nothing the producers sent is skipped) or new messages only.
  bool start_at_earliest = true;
  bool tls = false;  // a `tls:` section was given
  forward::detail::TlsOptions tls_options;
  KafkaSasl sasl;
  // A folder every relay of the group reads and writes (shared storage), where each partition's
  // session state is written at each offset commit and read back by the partition's next owner.
  // Empty: no handover (a partition's new owner starts its computers with an empty tracker).
  std::string handover_dir;
  // How long a revoked partition may take to get its read events processed, spooled and
  // committed before it is given up anyway (its next owner then reads some events again).
  std::chrono::milliseconds revoke_timeout{15'000};
  // librdkafka properties passed as they are (session.timeout.ms, fetch.max.bytes, ...), after
  // the ones above.
  std::map<std::string, std::string> properties;
};

// True when this build has librdkafka (not the Windows build).
bool kafka_available();

extern const InputPlugin kKafkaInput;

}  // namespace sw::daemon
