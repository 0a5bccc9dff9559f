/* common.c -- the precision-independent pieces of the core: flag parsing, pivot validation,
 * library information (the workspace: workspace.c). */
#include <stdlib.h>
#include "internal.h"

char dl_flag(char c, const char *allowed) {
    if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
    for (const char *p = allowed; *p; ++p)
        if (*p == c) return c;
    return 0;
}

int dl_pivots_in_range(int count, const int *ipiv, int rows) {
    for (int i = 0; i < count; ++i)
        if (ipiv[i] < 1 || ipiv[i] > rows) return 0;
    return 1;
}

void dl_set_num_threads(int nthreads) { openblas_set_num_threads(nthreads); }

const char *dl_version(void) { return DIFFLAPACK_VERSION; }
