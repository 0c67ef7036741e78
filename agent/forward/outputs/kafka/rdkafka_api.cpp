#include "forward/outputs/kafka/rdkafka_api.hpp"

#ifdef SW_HAVE_KAFKA

#include "platform/shared_library.hpp"

namespace sw::forward {

namespace {

Rdkafka open_rdkafka() {
  platform::SharedLibrary library("librdkafka.so.1", "librdkafka1");
  Rdkafka api;
#define SW_RDKAFKA_RESOLVE(name) library.resolve(#name, api.name);
  SW_RDKAFKA_FUNCTIONS(SW_RDKAFKA_RESOLVE)
#undef SW_RDKAFKA_RESOLVE
  api.error = library.error();
  return api;
}

}  // namespace

const Rdkafka& rdkafka() {
  static const Rdkafka api = open_rdkafka();
  return api;
}

}  // namespace sw::forward

#endif  // SW_HAVE_KAFKA
