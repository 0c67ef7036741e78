// The librdkafka functions the Kafka input and output call, opened on first use
// (platform/shared_library.hpp): linked, librdkafka and the libraries it needs (lz4, zstd,
// sasl2...) were mapped at every start of every command.
#pragma once
#ifdef SW_HAVE_KAFKA

#include <librdkafka/rdkafka.h>

#include <string>

namespace sw::forward {

// clang-format off
#define SW_RDKAFKA_FUNCTIONS(X) \
  X(rd_kafka_assign) \
  X(rd_kafka_assignment_lost) \
  X(rd_kafka_commit) \
  X(rd_kafka_conf_destroy) \
  X(rd_kafka_conf_dup) \
  X(rd_kafka_conf_new) \
  X(rd_kafka_conf_set) \
  X(rd_kafka_conf_set_dr_msg_cb) \
  X(rd_kafka_conf_set_error_cb) \
  X(rd_kafka_conf_set_log_cb) \
  X(rd_kafka_conf_set_opaque) \
  X(rd_kafka_conf_set_rebalance_cb) \
  X(rd_kafka_consumer_close) \
  X(rd_kafka_consumer_poll) \
  X(rd_kafka_destroy) \
  X(rd_kafka_err2str) \
  X(rd_kafka_error_destroy) \
  X(rd_kafka_error_string) \
  X(rd_kafka_fatal_error) \
  X(rd_kafka_incremental_assign) \
  X(rd_kafka_incremental_unassign) \
  X(rd_kafka_message_destroy) \
  X(rd_kafka_message_errstr) \
  X(rd_kafka_metadata) \
  X(rd_kafka_metadata_destroy) \
  X(rd_kafka_new) \
  X(rd_kafka_poll) \
  X(rd_kafka_poll_set_consumer) \
  X(rd_kafka_producev) \
  X(rd_kafka_purge) \
  X(rd_kafka_rebalance_protocol) \
  X(rd_kafka_subscribe) \
  X(rd_kafka_topic_name) \
  X(rd_kafka_topic_partition_list_add) \
  X(rd_kafka_topic_partition_list_destroy) \
  X(rd_kafka_topic_partition_list_new)
// clang-format on

struct Rdkafka {
#define SW_RDKAFKA_POINTER(name) decltype(&::name) name = nullptr;
  SW_RDKAFKA_FUNCTIONS(SW_RDKAFKA_POINTER)
#undef SW_RDKAFKA_POINTER
  std::string error;  // why the library cannot be used; empty when every function is there
};

// Opened on the first call (thread-safe), kept open until exit.
const Rdkafka& rdkafka();

}  // namespace sw::forward

#endif  // SW_HAVE_KAFKA
