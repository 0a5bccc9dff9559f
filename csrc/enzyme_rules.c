/* enzyme_rules.c -- each precision's dispatch table of the Enzyme layer's per-routine handlers
 * (enzyme_rules_triangular.c, enzyme_rules_lu.c, enzyme_rules_cholesky.c; enzyme_rules.h). */
#include "enzyme_rules.h"

#define HANDLERS DL_CAT3(dle_, DL_P, _handlers)

const dle_handler *const HANDLERS[DLE_OP_COUNT] = {
    [DLE_OP_TRSV] = &DLE_RULE(trsv),
    [DLE_OP_TRSM] = &DLE_RULE(trsm),
    [DLE_OP_TRTRS] = &DLE_RULE(trtrs),
    [DLE_OP_GETRF] = &DLE_RULE(getrf),
    [DLE_OP_GETRS] = &DLE_RULE(getrs),
    [DLE_OP_GESV_FACTOR] = &DLE_RULE(gesv_factor),
    [DLE_OP_GESV_SOLVE] = &DLE_RULE(gesv_solve),
    [DLE_OP_GETRI] = &DLE_RULE(getri),
    [DLE_OP_POTRF] = &DLE_RULE(potrf),
    [DLE_OP_POTRS] = &DLE_RULE(potrs),
    [DLE_OP_POSV_FACTOR] = &DLE_RULE(posv_factor),
    [DLE_OP_POSV_SOLVE] = &DLE_RULE(posv_solve),
};
