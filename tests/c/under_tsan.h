/* under_tsan.h — UNDER_TSAN: 1 when compiled with ThreadSanitizer (gcc or clang),
 * else 0; stress tests scale their sizes down by it. */
#ifndef LASK_TEST_UNDER_TSAN_H
#define LASK_TEST_UNDER_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

#endif
