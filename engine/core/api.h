/* api.h — what lets the public headers serve C and C++ hosts alike: C linkage for
 * C++ (LASK_BEGIN_DECLS ... LASK_END_DECLS around each header's declarations), and
 * LASK_ATOMIC(T), an atomic T that is C11's _Atomic T in C and std::atomic<T> in C++
 * (the same size and layout on the compilers lask supports), and LASK_FLEX, the size
 * of a trailing flexible array member: [] in C, [1] in C++, which has none (the
 * member's offset is the same; C++ code only reads such objects, the engine makes
 * them). */
#ifndef LASK_API_H
#define LASK_API_H

#ifdef __cplusplus
#include <atomic>
#define LASK_BEGIN_DECLS extern "C" {
#define LASK_END_DECLS   }
#define LASK_ATOMIC(T)   std::atomic<T>
#define LASK_FLEX        1
#else
#include <stdatomic.h>
#define LASK_BEGIN_DECLS
#define LASK_END_DECLS
#define LASK_ATOMIC(T) _Atomic T
#define LASK_FLEX
#endif

#endif
