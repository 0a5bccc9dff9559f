/* difflapack_table.h -- the precisions difflapack is built for, as one X-macro table that the
 * public kernel prototypes (difflapack.h), the Enzyme entry points (difflapack_enzyme.h) and the
 * Python bindings (difflapack/_core.py parses this file) all derive from.
 *
 *   X(prefix, element type, real type, is_complex)
 *
 * The complex element types are dl_complex_float / dl_complex_double (difflapack.h defines
 * them: C99 _Complex in C, std::complex in C++, or whatever the including program defines
 * DL_COMPLEX_FLOAT / DL_COMPLEX_DOUBLE to, like LAPACKE's lapack_complex_double). Complex
 * arrays are interleaved (re, im) pairs of the real type.
 */
#ifndef DIFFLAPACK_TABLE_H
#define DIFFLAPACK_TABLE_H

#define DL_PRECISIONS(X)                                                                         \
    X(s, float, float, 0)                                                                        \
    X(d, double, double, 0)                                                                      \
    X(c, dl_complex_float, float, 1)                                                             \
    X(z, dl_complex_double, double, 1)

#endif /* DIFFLAPACK_TABLE_H */
