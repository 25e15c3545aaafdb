/*
 * fuzz_mapdb.c - drives the mapdb model (tests/test_mapdb_model_ref.h and _ops.h) from the
 * fuzzer's bytes.
 *
 * Every byte chooses an operation or an argument: roots, maps, grants, unmaps, budgeted
 * unmaps started and stepped with any budget, finds, node_alloc failures. After each
 * operation the database, the shadow page table fed by `changed` and the reference tree are
 * compared and l4mm_mapdb_check() must pass; at the end every operation is finished,
 * everything is unmapped and every node must have been freed. Any disagreement aborts.
 */

#include "../tests/test_mapdb_model_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct model g_fuzz_model;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct model *m = &g_fuzz_model;
    memset(m, 0, sizeof *m);
    m->data = data;
    m->size = size;
    m->from_data = true;
    model_init(m);
    while (m->pos < m->size)
        model_one(m);
    model_drain(m);
    return 0;
}
