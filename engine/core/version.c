/* version.c — lask_version: the library's version at run time (version.h). */
#include "version.h"

const char *lask_version(void) { return LASK_VERSION; }
