/* lapack_f.h — LAPACK routines called through their Fortran entry points: the
 * compact-WY factorisations LAPACKE does not wrap (the LQ ones, the triangular-
 * pentagonal ones), and the QR ones whose LAPACKE wrappers would first scan both
 * whole inputs for NaN. Arguments by reference, column-major; the trailing size_t
 * are gfortran's hidden lengths of the character arguments. Used by linalg.c and
 * range_finder.c. */
#ifndef LASK_LAPACK_F_H
#define LASK_LAPACK_F_H

#include <stddef.h>

/* Blocked LQ of the m×n a (mb reflectors a block, T factors in t); the product of
 * its Q with c. */
void dgelqt_(const int *m, const int *n, const int *mb, double *a, const int *lda, double *t, const int *ldt,
             double *work, int *info);
void dgemlqt_(const char *side, const char *trans, const int *m, const int *n, const int *k, const int *mb,
              const double *v, const int *ldv, const double *t, const int *ldt, double *c, const int *ldc,
              double *work, int *info, size_t, size_t);

/* Blocked QR of the m×n a (nb reflectors a block); the product of its Q with c. */
void dgeqrt_(const int *m, const int *n, const int *nb, double *a, const int *lda, double *t, const int *ldt,
             double *work, int *info);
void dgemqrt_(const char *side, const char *trans, const int *m, const int *n, const int *k, const int *nb,
              const double *v, const int *ldv, const double *t, const int *ldt, double *c, const int *ldc,
              double *work, int *info, size_t, size_t);

/* Triangular-pentagonal LQ of [a b] (a lower triangular; b with l trailing
 * triangular columns); the product of its Q with [a b]. */
void dtplqt_(const int *m, const int *n, const int *l, const int *mb, double *a, const int *lda, double *b,
             const int *ldb, double *t, const int *ldt, double *work, int *info);
void dtpmlqt_(const char *side, const char *trans, const int *m, const int *n, const int *k, const int *l,
              const int *mb, const double *v, const int *ldv, const double *t, const int *ldt, double *a,
              const int *lda, double *b, const int *ldb, double *work, int *info, size_t, size_t);

#endif
