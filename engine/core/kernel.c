/* kernel.c — the kernel class: native kernels as objects that stand as task heads. */
#include <stdlib.h>
#include <string.h>

#include "kernel.h"

static void kernel_destroy(lask_obj *o) {
  lask_kernel *k = (lask_kernel *)o;
  if (k->free_data) k->free_data(k->data);
  free((char *)k->name);
  free(k);
}

const lask_class lask_kernel_class = {"kernel", kernel_destroy};

lask_kernel *lask_kernel_new(const char *name, lask_kernel_fn fn, void *data, void (*free_data)(void *)) {
  lask_kernel *k = malloc(sizeof *k);
  char *copy = strdup(name);
  if (!k || !copy) return free(k), free(copy), NULL;
  lask_obj_init(&k->h, &lask_kernel_class);
  k->name = copy, k->fn = fn, k->data = data, k->free_data = free_data, k->into = NULL;
  return k;
}
