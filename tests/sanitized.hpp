// SW_SANITIZED: this test binary is built with AddressSanitizer or ThreadSanitizer, whose shadow
// memory (and quarantine) a resident-memory bound would count as the agent's. GCC defines a
// macro of its own; clang 14 answers only __has_feature.
#pragma once

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SW_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SW_SANITIZED 1
#endif
#endif
