/*
 * test_buddy_check.c - corruption detection (every metadata bit, random bytes, every struct
 * bit) and "never touches managed memory" (workloads over PROT_NONE and unmapped ranges).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <l4mm/buddy.h>

#include "test_buddy_util.h"

/* ---- managed memory is never touched ------------------------------------------------------ */

static void workload(struct fx *f, l4mm_addr_t base, l4mm_addr_t size)
{
    l4mm_addr_t live[512];
    unsigned ord[512], n = 0;
    uint64_t seed = 12345;
    assert_int_equal(l4mm_buddy_add(&f->b, base, size), L4MM_OK);
    assert_int_equal(l4mm_buddy_take(&f->b, base + size / 4, size / 8), L4MM_OK);
    for (int i = 0; i < 20000; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        if (n < 512 && (seed >> 63)) {
            unsigned k = (unsigned)(seed >> 40) % 6;
            l4mm_addr_t at = base + ((((seed >> 8) % (size >> 12)) << 12) & ~((PG << k) - 1));
            l4mm_status r;
            switch ((seed >> 20) % 3) {
            case 0: r = l4mm_buddy_alloc(&f->b, k, &live[n]); break;
            case 1: r = l4mm_buddy_alloc_in(&f->b, k, at, at + size / 3, &live[n]); break;
            default:
                r = l4mm_buddy_alloc_at(&f->b, at, k);
                live[n] = at;
                break;
            }
            if (r == L4MM_OK)
                ord[n++] = k;
        } else if (n > 0) {
            unsigned j = (unsigned)(seed >> 33) % n;
            assert_int_equal(l4mm_buddy_free(&f->b, live[j], ord[j]), L4MM_OK);
            live[j] = live[--n];
            ord[j] = ord[n];
        }
    }
    while (n > 0) {
        n--;
        assert_int_equal(l4mm_buddy_free(&f->b, live[n], ord[n]), L4MM_OK);
    }
    assert_int_equal(l4mm_buddy_add(&f->b, base + size / 4, size / 8), L4MM_OK);
    assert_int_equal(l4mm_buddy_take(&f->b, base, size), L4MM_OK);
}

static void test_buddy_never_touches_prot_none_memory(void **s)
{
    struct fx f;
    size_t len = 16 * MiB;
    void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    l4mm_addr_t base;
    (void)s;
    assert_true(p != MAP_FAILED);
    base = ((l4mm_addr_t)(uintptr_t)p + PG - 1) & ~(PG - 1);
    fx_init(&f, base, 15 * MiB, 12, 12);
    workload(&f, base, 15 * MiB); /* any access would SIGSEGV */
    munmap(p, len);
    fx_done(&f);
}

static void test_buddy_never_touches_unmapped_range(void **s)
{
    struct fx f;
    /* non-canonical on x86-64 and above any user mapping elsewhere */
    l4mm_addr_t base = 0xfff0000000000000ull;
    (void)s;
    fx_init(&f, base, 64 * MiB, 12, 14);
    workload(&f, base, 64 * MiB);
    fx_done(&f);
}

/* ---- check ----------------------------------------------------------------------------------- */

/* Flipping any single bit of the metadata buffer must make check report ECORRUPT. */
static void every_meta_bit_is_checked(struct fx *f)
{
    for (size_t w = 0; w < f->msz / 8; w++) {
        for (unsigned bit = 0; bit < 64; bit++) {
            f->meta[w] ^= (uint64_t)1 << bit;
            assert_int_equal(l4mm_buddy_check(&f->b), L4MM_ECORRUPT);
            f->meta[w] ^= (uint64_t)1 << bit;
        }
    }
}

/* Flip every bit of the instance struct, one at a time: check() must report each. */
static void every_struct_bit_is_checked(struct fx *f)
{
    unsigned char *p = (unsigned char *)&f->b;
    for (size_t i = 0; i < sizeof f->b; i++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            p[i] ^= (unsigned char)(1u << bit);
            assert_int_equal(l4mm_buddy_check(&f->b), L4MM_ECORRUPT);
            p[i] ^= (unsigned char)(1u << bit);
        }
    }
    assert_int_equal(l4mm_buddy_check(&f->b), L4MM_OK);
}

static void busy_instance(struct fx *f)
{
    l4mm_addr_t a;
    fx_init(f, 0x5000, 700 * PG, 12, 7);
    assert_int_equal(l4mm_buddy_add(&f->b, 0x5000, 650 * PG), L4MM_OK);
    for (unsigned i = 0; i < 60; i++)
        assert_int_equal(l4mm_buddy_alloc(&f->b, i % 4, &a), L4MM_OK);
    assert_int_equal(l4mm_buddy_free(&f->b, a, 59 % 4), L4MM_OK);
    assert_int_equal(l4mm_buddy_take(&f->b, 0x5000 + 400 * PG, 100 * PG), L4MM_OK);
}

static void test_buddy_check_detects_every_single_bit_flip(void **s)
{
    struct fx f;
    (void)s;
    busy_instance(&f);
    assert_int_equal(l4mm_buddy_check(&f.b), L4MM_OK);
    every_meta_bit_is_checked(&f);
    fx_done(&f);
}

static void test_buddy_check_detects_random_byte_corruption(void **s)
{
    struct fx f;
    uint64_t seed = 99;
    (void)s;
    busy_instance(&f);
    for (int i = 0; i < 3000; i++) {
        unsigned char *p = (unsigned char *)f.meta, old, v;
        size_t at;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        at = (size_t)(seed >> 20) % f.msz;
        v = (unsigned char)(seed >> 8);
        old = p[at];
        if (v == old)
            continue;
        p[at] = v;
        assert_int_equal(l4mm_buddy_check(&f.b), L4MM_ECORRUPT);
        p[at] = old;
    }
    fx_done(&f);
}

static void test_buddy_check_detects_struct_corruption(void **s)
{
    struct fx f;
    unsigned char *p;
    (void)s;
    busy_instance(&f);
    p = (unsigned char *)&f.b.meta; /* every byte of the geometry is sealed */
    for (size_t i = 0; i < offsetof(struct l4mm_buddy, magic) + 4; i++) {
        p[i] ^= 0x10;
        assert_int_equal(l4mm_buddy_check_quick(&f.b), L4MM_ECORRUPT);
        p[i] ^= 0x10;
    }
    /* every bit of the struct (no padding) is cross-checked by the full check */
    every_struct_bit_is_checked(&f);
    assert_int_equal(l4mm_buddy_check(&f.b), L4MM_OK);
    f.b.free_units++;
    assert_int_equal(l4mm_buddy_check_quick(&f.b), L4MM_ECORRUPT);
    assert_int_equal(l4mm_buddy_check(&f.b), L4MM_ECORRUPT);
    f.b.free_units--;
    f.b.nblk[3]++;
    assert_int_equal(l4mm_buddy_check_quick(&f.b), L4MM_ECORRUPT);
    f.b.nblk[3]--;
    f.b.xl++;
    assert_int_equal(l4mm_buddy_check_quick(&f.b), L4MM_ECORRUPT);
    f.b.xl--;
    f.b.alloc_blocks++;
    assert_int_equal(l4mm_buddy_check(&f.b), L4MM_ECORRUPT);
    f.b.alloc_blocks--;
    f.b.bm[2].nw++;
    assert_int_equal(l4mm_buddy_check(&f.b), L4MM_ECORRUPT);
    f.b.bm[2].nw--;
    assert_int_equal(l4mm_buddy_check(NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_buddy_check_quick(NULL), L4MM_EINVAL);
    fx_done(&f);
}

/* An allocation that splits a large block leaves the split pending (the buddies on the path
 * are counted but not written); check() must still see every damage then, and freeing the
 * block must give back the post-add bytes. */
static void test_buddy_check_detects_damage_while_a_split_is_pending(void **s)
{
    struct fx f;
    l4mm_addr_t a, a2;
    uint64_t *after_add;
    struct l4mm_buddy_stats st;
    (void)s;
    fx_init(&f, 0, 256 * PG, 12, 8);
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 256 * PG), L4MM_OK);
    after_add = malloc(f.msz);
    assert_non_null(after_add);
    memcpy(after_add, f.meta, f.msz);
    assert_int_equal(l4mm_buddy_alloc(&f.b, 0, &a), L4MM_OK);
    assert_int_equal(a, 0);
    l4mm_buddy_stats(&f.b, &st);
    for (unsigned k = 0; k < 8; k++)
        assert_int_equal(st.free_blocks[k], 1);
    assert_int_equal(st.free_blocks[8], 0);
    assert_int_equal(l4mm_buddy_alloc(&f.b, 2, &a2), L4MM_OK); /* best fit: units 4..7 */
    assert_int_equal(a2, 4 * PG);
    assert_int_equal(l4mm_buddy_check(&f.b), L4MM_OK);
    every_meta_bit_is_checked(&f);
    every_struct_bit_is_checked(&f);
    assert_int_equal(l4mm_buddy_free(&f.b, a2, 0), L4MM_ENOENT); /* wrong order */
    assert_int_equal(l4mm_buddy_free(&f.b, a2, 2), L4MM_OK);
    assert_int_equal(l4mm_buddy_free(&f.b, a, 0), L4MM_OK);
    assert_memory_equal(f.meta, after_add, f.msz);
    assert_int_equal(l4mm_buddy_alloc(&f.b, 0, &a), L4MM_OK);
    assert_int_equal(l4mm_buddy_free(&f.b, a, 0), L4MM_OK); /* the O(1) way back */
    assert_memory_equal(f.meta, after_add, f.msz);
    free(after_add);
    fx_done(&f);
}

/* The struct equals ref except for the ghost split's memo fields. */
static void same_but_memo(const struct l4mm_buddy *b, const struct l4mm_buddy *ref)
{
    struct l4mm_buddy c = *b;
    c.gh_s = ref->gh_s;
    c.gh_j = ref->gh_j;
    c.gh_a = ref->gh_a;
    assert_memory_equal(&c, ref, sizeof c);
}

/* An order-0 alloc that starts a split with none pending is a "ghost": the struct's gh_*
 * fields alone record it (the split block keeps its free bit, the new block has no mark,
 * counters are unchanged). Every query, every failing call and check() must see the
 * allocated block all the same; every metadata and struct bit is still covered, also when a
 * second free top block could stand in for the split one, and also for the memo the ghost's
 * free leaves behind. */
static void test_buddy_ghost_split_is_seen_by_every_query_and_check(void **s)
{
    struct fx f;
    struct l4mm_buddy b_add, b_snap;
    l4mm_addr_t a, a2;
    uint64_t *after_add, *snap;
    struct l4mm_buddy_stats st;
    int state;
    (void)s;
    fx_init(&f, 0, 512 * PG, 12, 8); /* two free top blocks: units 0..255 and 256..511 */
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 512 * PG), L4MM_OK);
    after_add = malloc(f.msz);
    snap = malloc(f.msz);
    assert_non_null(after_add);
    assert_non_null(snap);
    memcpy(after_add, f.meta, f.msz);
    memcpy(&b_add, &f.b, sizeof f.b);
    assert_int_equal(l4mm_buddy_alloc(&f.b, 0, &a), L4MM_OK);
    assert_int_equal(a, 0);
    assert_memory_equal(f.meta, after_add, f.msz); /* nothing written yet */
    assert_int_equal(l4mm_buddy_check(&f.b), L4MM_OK);
    l4mm_buddy_stats(&f.b, &st);
    for (unsigned k = 0; k < 8; k++)
        assert_int_equal(st.free_blocks[k], 1);
    assert_int_equal(st.free_blocks[8], 1);
    assert_int_equal(st.free_units, 511);
    assert_int_equal(st.allocated_units, 1);
    assert_int_equal(l4mm_buddy_unit_state(&f.b, 0, &state), L4MM_OK);
    assert_int_equal(state, 2);
    assert_int_equal(l4mm_buddy_unit_state(&f.b, PG, &state), L4MM_OK);
    assert_int_equal(state, 1);
    assert_int_equal(l4mm_buddy_unit_state(&f.b, 255 * PG, &state), L4MM_OK);
    assert_int_equal(state, 1);
    /* failing calls see the allocated block and change nothing */
    memcpy(snap, f.meta, f.msz);
    memcpy(&b_snap, &f.b, sizeof f.b);
    assert_int_equal(l4mm_buddy_free(&f.b, 0, 1), L4MM_ENOENT);
    assert_int_equal(l4mm_buddy_free(&f.b, 0, 8), L4MM_ENOENT);
    assert_int_equal(l4mm_buddy_free(&f.b, PG, 0), L4MM_ENOENT);
    assert_int_equal(l4mm_buddy_free(&f.b, 256 * PG, 8), L4MM_ENOENT);
    assert_int_equal(l4mm_buddy_alloc_at(&f.b, 0, 0), L4MM_EBUSY);
    assert_int_equal(l4mm_buddy_alloc_at(&f.b, 0, 8), L4MM_EBUSY);
    assert_int_equal(l4mm_buddy_take(&f.b, 0, 512 * PG), L4MM_EBUSY);
    assert_int_equal(l4mm_buddy_take(&f.b, 0, 256 * PG), L4MM_EBUSY);
    assert_int_equal(l4mm_buddy_take(&f.b, 0, PG), L4MM_EBUSY);
    assert_int_equal(l4mm_buddy_add(&f.b, 0, PG), L4MM_EBUSY);
    assert_int_equal(l4mm_buddy_add(&f.b, 0, 512 * PG), L4MM_EBUSY);
    assert_int_equal(l4mm_buddy_alloc_in(&f.b, 0, 0, PG, &a2), L4MM_ENOMEM);
    assert_int_equal(l4mm_buddy_alloc_in(&f.b, 8, 0, 256 * PG, &a2), L4MM_ENOMEM);
    assert_int_equal(l4mm_buddy_alloc(&f.b, 9, &a2), L4MM_EINVAL);
    assert_memory_equal(f.meta, snap, f.msz);
    assert_memory_equal(&f.b, &b_snap, sizeof f.b);
    assert_int_equal(l4mm_buddy_check(&f.b), L4MM_OK);
    every_meta_bit_is_checked(&f);
    every_struct_bit_is_checked(&f);
    /* the free that undoes it restores metadata and struct exactly, but for the memo */
    assert_int_equal(l4mm_buddy_free(&f.b, a, 0), L4MM_OK);
    assert_memory_equal(f.meta, after_add, f.msz);
    same_but_memo(&f.b, &b_add);
    every_struct_bit_is_checked(&f);                            /* now with the memo */
    assert_int_equal(l4mm_buddy_free(&f.b, a, 0), L4MM_ENOENT); /* double free */
    assert_memory_equal(f.meta, after_add, f.msz);
    /* the memo serves the same block again, writing nothing */
    assert_int_equal(l4mm_buddy_alloc(&f.b, 0, &a), L4MM_OK);
    assert_int_equal(a, 0);
    assert_memory_equal(f.meta, after_add, f.msz);
    assert_int_equal(l4mm_buddy_check(&f.b), L4MM_OK);
    assert_int_equal(l4mm_buddy_free(&f.b, a, 0), L4MM_OK);
    /* any other operation writes it out first: alloc_in from a pending buddy */
    assert_int_equal(l4mm_buddy_alloc(&f.b, 0, &a), L4MM_OK);
    assert_int_equal(l4mm_buddy_alloc_in(&f.b, 0, 0, 2 * PG, &a2), L4MM_OK);
    assert_int_equal(a2, PG);
    assert_int_equal(l4mm_buddy_check(&f.b), L4MM_OK);
    assert_int_equal(l4mm_buddy_free(&f.b, a, 0), L4MM_OK);
    assert_int_equal(l4mm_buddy_free(&f.b, a2, 0), L4MM_OK);
    assert_memory_equal(f.meta, after_add, f.msz);
    /* take of the other top block while a ghost split is live, then free and add back */
    assert_int_equal(l4mm_buddy_alloc(&f.b, 0, &a), L4MM_OK);
    assert_int_equal(a, 0);
    assert_int_equal(l4mm_buddy_take(&f.b, 256 * PG, 256 * PG), L4MM_OK);
    assert_int_equal(l4mm_buddy_check(&f.b), L4MM_OK);
    memcpy(snap, f.meta, f.msz);
    memcpy(&b_snap, &f.b, sizeof f.b);
    assert_int_equal(l4mm_buddy_alloc(&f.b, 8, &a2), L4MM_ENOMEM);
    assert_memory_equal(f.meta, snap, f.msz);
    assert_memory_equal(&f.b, &b_snap, sizeof f.b);
    assert_int_equal(l4mm_buddy_free(&f.b, a, 0), L4MM_OK);
    assert_int_equal(l4mm_buddy_add(&f.b, 256 * PG, 256 * PG), L4MM_OK);
    assert_memory_equal(f.meta, after_add, f.msz);
    free(snap);
    free(after_add);
    fx_done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buddy_never_touches_prot_none_memory),
        cmocka_unit_test(test_buddy_never_touches_unmapped_range),
        cmocka_unit_test(test_buddy_check_detects_every_single_bit_flip),
        cmocka_unit_test(test_buddy_check_detects_random_byte_corruption),
        cmocka_unit_test(test_buddy_check_detects_struct_corruption),
        cmocka_unit_test(test_buddy_check_detects_damage_while_a_split_is_pending),
        cmocka_unit_test(test_buddy_ghost_split_is_seen_by_every_query_and_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
