/* random_draws.h — uniform and normal draws of Philox4x32-10 (random_draws.c), the
 * numbers of da.random.random and da.random.normal (create.c). */
#ifndef LASK_RANDOM_DRAWS_H
#define LASK_RANDOM_DRAWS_H

#include <stdint.h>

/* The compiled paths; each gives the same bits. */
typedef enum lask_draws_path {
  LASK_DRAWS_BASE,   /* the baseline instruction set */
  LASK_DRAWS_AVX2,   /* x86-64 with AVX2 */
  LASK_DRAWS_AVX512, /* x86-64 with AVX-512F */
} lask_draws_path;

/* Writes draws first .. first+count-1 of stream under seed to out[0..count): uniform
 * in [0, 1), or (normal) loc + scale * z with z standard normal. Draws 2j and 2j+1 come
 * from Philox counter (j, stream). path must be one lask_draws_path_ok accepts
 * (lask_draws_best: the fastest; a caller picks it once, not per call). */
void lask_draws_on(lask_draws_path path, uint64_t seed, uint32_t stream, uint64_t first, int64_t count,
                   int normal, double loc, double scale, double *out);

/* The fastest path this processor runs. */
lask_draws_path lask_draws_best(void);

/* Non-zero when path is compiled in and this processor runs it. */
int lask_draws_path_ok(lask_draws_path path);

/* The 2n draws lask_draws_on makes of n Philox outputs words[i] (draws 2i and 2i+1;
 * the tests reach any uniform this way). */
void lask_draws_of_words(lask_draws_path path, const uint32_t (*words)[4], int64_t n, int normal, double loc,
                         double scale, double *out);

/* Philox4x32-10 of one counter under key, the rounds the draws use (known-answer tests). */
void lask_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

#endif
