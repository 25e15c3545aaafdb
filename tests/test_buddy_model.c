/*
 * test_buddy_model.c - randomized model-based test of the buddy allocator.
 *
 * A reference model keeps one state per unit (reserved / free / allocated) and the order of
 * each allocated block at its first unit. Over many random geometries (base 0, unaligned
 * bases, bases above 4 GiB and near the top of the address space, unit_shift 0 for I/O
 * ports, max_order beyond what the range holds) random operations run against both; after
 * every operation the statuses, results, all statistics fields, every unit's state and
 * l4mm_buddy_check() must agree, and every error must leave metadata and struct unchanged
 * byte for byte. At least 10^6 operations in the normal build.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <l4mm/buddy.h>

#if defined(__SANITIZE_ADDRESS__)
#define MODEL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MODEL_SANITIZED 1
#endif
#endif
#ifndef MODEL_SANITIZED
#define MODEL_SANITIZED 0
#endif

#define MAXU 256

enum { RES = 0, FREE = 1, ALLOC = 2 };

struct model {
    uint64_t xb, n;
    unsigned us, mo;
    unsigned char st[MAXU];
    signed char head[MAXU]; /* order + 1 of the allocated block starting here, else 0 */
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

static uint64_t rn(uint64_t n)
{
    return n ? rnd() % n : 0;
}

static struct model md;
static struct l4mm_buddy bd, snap_b;
static uint64_t *meta, *snap_m;
static size_t meta_sz;
static unsigned long ops_done;
static unsigned long memo_hits; /* order-0 allocs served by the memo (white-box count) */
#define GH_MEMO 0x4d454d4fu     /* the memo state code of src/buddy/buddy_internal.h */

/* ---- model --------------------------------------------------------------------------- */

static int m_range(uint64_t x, uint64_t cnt)
{
    return cnt > 0 && x >= md.xb && x - md.xb < md.n && cnt <= md.n - (x - md.xb);
}

static int m_all(uint64_t x, uint64_t cnt, unsigned char s)
{
    for (uint64_t i = 0; i < cnt; i++)
        if (md.st[x - md.xb + i] != s)
            return 0;
    return 1;
}

static void m_set(uint64_t x, uint64_t cnt, unsigned char s)
{
    for (uint64_t i = 0; i < cnt; i++)
        md.st[x - md.xb + i] = s;
}

/* Largest order k <= cap of a free aligned in-range block starting at x, or -1. */
static int m_block_at(uint64_t x, unsigned cap)
{
    int best = -1;
    for (unsigned k = 0; k <= cap && k < 63; k++) {
        uint64_t sz = (uint64_t)1 << k;
        if (x & (sz - 1u))
            break;
        if (!m_range(x, sz) || !m_all(x, sz, FREE))
            break;
        best = (int)k;
    }
    return best;
}

static void m_stats(struct l4mm_buddy_stats *s)
{
    memset(s, 0, sizeof *s);
    s->largest_free_order = -1;
    for (uint64_t i = 0; i < md.n; i++) {
        if (md.st[i] == FREE)
            s->free_units++;
        else if (md.st[i] == ALLOC)
            s->allocated_units++;
        else
            s->reserved_units++;
    }
    for (uint64_t i = 0; i < md.n;) {
        int k = md.st[i] == FREE ? m_block_at(md.xb + i, md.mo) : -1;
        if (k < 0) {
            i++;
            continue;
        }
        s->free_blocks[k]++;
        if (k > s->largest_free_order)
            s->largest_free_order = k;
        i += (uint64_t)1 << k;
    }
}

/* Is there a free aligned order-k block inside units [lo, hi]? */
static int m_exists(unsigned k, uint64_t lo, uint64_t hi)
{
    uint64_t sz = (uint64_t)1 << k;
    if (k >= 63)
        return 0;
    for (uint64_t i = 0; i < md.n; i++) {
        uint64_t x = md.xb + i;
        if ((x & (sz - 1u)) || x < lo || x > hi || hi - x < sz - 1u)
            continue;
        if (m_range(x, sz) && m_all(x, sz, FREE))
            return 1;
    }
    return 0;
}

/* Best fit for order k: the lowest block among the canonical free blocks of the smallest
 * order >= k (what the header promises); UINT64_MAX if none. */
static uint64_t m_best_fit(unsigned k)
{
    uint64_t best = UINT64_MAX;
    int bo = 64;
    for (uint64_t i = 0; i < md.n;) {
        int c = md.st[i] == FREE ? m_block_at(md.xb + i, md.mo) : -1;
        if (c < 0) {
            i++;
            continue;
        }
        if (c >= (int)k && c < bo) {
            bo = c;
            best = md.xb + i;
        }
        i += (uint64_t)1 << c;
    }
    return best;
}

/* ---- comparison ---------------------------------------------------------------------- */

static void compare(void)
{
    struct l4mm_buddy_stats a, e;
    l4mm_buddy_stats(&bd, &a);
    m_stats(&e);
    assert_int_equal(a.free_units, e.free_units);
    assert_int_equal(a.allocated_units, e.allocated_units);
    assert_int_equal(a.reserved_units, e.reserved_units);
    assert_int_equal(a.largest_free_order, e.largest_free_order);
    for (unsigned k = 0; k < 64; k++)
        assert_int_equal(a.free_blocks[k], e.free_blocks[k]);
    for (uint64_t i = 0; i < md.n && (ops_done & 7u) == 0; i++) { /* every 8th op */
        int s = -1;
        assert_int_equal(l4mm_buddy_unit_state(&bd, (md.xb + i) << md.us, &s), L4MM_OK);
        assert_int_equal(s, md.st[i]);
    }
    assert_int_equal(l4mm_buddy_check_quick(&bd), L4MM_OK);
    assert_int_equal(l4mm_buddy_check(&bd), L4MM_OK);
}

static void snapshot(void)
{
    memcpy(snap_m, meta, meta_sz);
    memcpy(&snap_b, &bd, sizeof bd);
}

static void unchanged(void)
{
    assert_memory_equal(snap_m, meta, meta_sz);
    assert_memory_equal(&snap_b, &bd, sizeof bd);
}

/* ---- operations ---------------------------------------------------------------------- */

static uint64_t pick_unit(void)
{
    /* mostly inside the range, sometimes just outside */
    uint64_t r = rn(16);
    if (r == 0 && md.xb > 0)
        return md.xb - 1u - rn(md.xb < 4 ? md.xb : 4);
    if (r == 1) {
        uint64_t x = md.xb + md.n + rn(4), lim = UINT64_MAX >> md.us;
        return x > lim || x < md.xb ? lim : x;
    }
    return md.xb + rn(md.n);
}

static unsigned pick_order(void)
{
    if (rn(20) == 0)
        return md.mo + 1u + (unsigned)rn(3);
    return (unsigned)rn(md.mo < 9 ? md.mo + 1u : 10u);
}

static unsigned long outcome[16];

static void expect(l4mm_status got, l4mm_status want)
{
    assert_int_equal(got, want);
    outcome[(unsigned)got & 15u]++;
    if (got != L4MM_OK)
        unchanged();
}

static void op_range(int take)
{
    uint64_t x = pick_unit(), cnt, addr, size;
    l4mm_status want;
    unsigned char need = take ? FREE : RES;
    if (rn(3) == 0) {
        cnt = 1 + rn(md.n);
    } else { /* extend over units of the needed state to make success likely */
        cnt = 1;
        while (m_range(x, cnt + 1) && m_all(x, cnt + 1, need) && rn(64) != 0)
            cnt++;
    }
    addr = x << md.us;
    size = cnt << md.us;
    if (rn(25) == 0 && md.us > 0)
        addr += 1u + rn(((uint64_t)1 << md.us) - 1u);
    if (rn(25) == 0)
        size = rn(2) ? 0 : size + (md.us > 0 ? 1u : 0u);
    if ((addr & (((uint64_t)1 << md.us) - 1u)) || size == 0 ||
        (size & (((uint64_t)1 << md.us) - 1u)) || !m_range(x, size >> md.us))
        want = L4MM_EINVAL;
    else
        want = m_all(x, cnt, need) ? L4MM_OK : L4MM_EBUSY;
    snapshot();
    expect(take ? l4mm_buddy_take(&bd, addr, size) : l4mm_buddy_add(&bd, addr, size), want);
    if (want == L4MM_OK)
        m_set(x, cnt, take ? RES : FREE);
}

static void apply_alloc(uint64_t x, unsigned k)
{
    uint64_t sz = (uint64_t)1 << k;
    assert_int_equal(x & (sz - 1u), 0);
    assert_true(m_range(x, sz));
    assert_true(m_all(x, sz, FREE));
    m_set(x, sz, ALLOC);
    md.head[x - md.xb] = (signed char)(k + 1);
}

/* Alloc of order k; returns the unit allocated, or UINT64_MAX. */
static uint64_t op_alloc_k(unsigned k)
{
    l4mm_addr_t a = 0;
    l4mm_status s, want;
    uint64_t best = k <= md.mo && k < 63 ? m_best_fit(k) : UINT64_MAX;
    memo_hits += k == 0 && bd.gh_s == GH_MEMO;
    snapshot();
    s = l4mm_buddy_alloc(&bd, k, &a);
    if (k > md.mo)
        want = L4MM_EINVAL;
    else
        want = m_exists(k, md.xb, md.xb + md.n - 1u) ? L4MM_OK : L4MM_ENOMEM;
    expect(s, want);
    if (s == L4MM_OK) {
        assert_int_equal(a & (((uint64_t)1 << md.us) - 1u), 0);
        assert_int_equal(a >> md.us, best); /* best fit: smallest block, lowest address */
        apply_alloc(a >> md.us, k);
        return a >> md.us;
    }
    return UINT64_MAX;
}

static void op_alloc(void)
{
    (void)op_alloc_k(pick_order());
}

/* Order-0 ping-pong: alloc, free the same block, alloc again ... (the ghost split and its
 * memo), each step checked like any op; sometimes the last block stays allocated. */
static void op_ping_pong(void)
{
    unsigned rounds = 1 + (unsigned)rn(6);
    for (unsigned r = 0; r < rounds; r++) {
        uint64_t x = op_alloc_k(0);
        compare();
        ops_done++;
        if (x == UINT64_MAX || (r + 1 == rounds && rn(2)))
            return;
        snapshot();
        expect(l4mm_buddy_free(&bd, x << md.us, 0), L4MM_OK);
        m_set(x, 1, FREE);
        md.head[x - md.xb] = 0;
        compare();
        ops_done++;
    }
}

static void op_alloc_in(void)
{
    unsigned k = pick_order();
    uint64_t ulo = pick_unit(), uhi = pick_unit();
    l4mm_addr_t lo = ulo << md.us, hi = uhi << md.us, a = 0;
    l4mm_status s, want;
    uint64_t mask = ((uint64_t)1 << md.us) - 1u, clo, chi;
    if (md.us > 0 && rn(3) == 0)
        lo += rn(mask + 1u);
    if (md.us > 0 && rn(3) == 0)
        hi += rn(mask + 1u);
    if (rn(30) == 0)
        hi = lo;
    snapshot();
    s = l4mm_buddy_alloc_in(&bd, k, lo, hi, &a);
    clo = (lo >> md.us) + ((lo & mask) != 0);
    chi = hi >> md.us; /* exclusive */
    if (k > md.mo || lo >= hi)
        want = L4MM_EINVAL;
    else if (chi == 0 || clo > chi - 1u)
        want = L4MM_ENOMEM;
    else
        want = m_exists(k, clo, chi - 1u) ? L4MM_OK : L4MM_ENOMEM;
    expect(s, want);
    if (s == L4MM_OK) {
        assert_true(a >= lo);
        assert_true(a + (((uint64_t)1 << k) << md.us) - 1u <= hi - 1u);
        apply_alloc(a >> md.us, k);
    }
}

static l4mm_status block_args(uint64_t x, unsigned k, l4mm_addr_t addr)
{
    if (k > md.mo || (addr & ((((uint64_t)1) << (md.us + (k > 63 - md.us ? 0 : k))) - 1u)) ||
        (x & (((uint64_t)1 << k) - 1u)) || !m_range(x, (uint64_t)1 << k))
        return L4MM_EINVAL;
    return L4MM_OK;
}

static void op_alloc_at(void)
{
    unsigned k = pick_order();
    uint64_t x = pick_unit();
    l4mm_addr_t addr;
    l4mm_status want;
    if (rn(2) && k < 63)
        x &= ~(((uint64_t)1 << k) - 1u);
    addr = x << md.us;
    if (md.us > 0 && rn(20) == 0)
        addr += 1u;
    want = block_args(x, k, addr);
    if (want == L4MM_OK && !m_all(x, (uint64_t)1 << k, FREE))
        want = L4MM_EBUSY;
    snapshot();
    expect(l4mm_buddy_alloc_at(&bd, addr, k), want);
    if (want == L4MM_OK)
        apply_alloc(x, k);
}

static void op_free(void)
{
    uint64_t x;
    unsigned k;
    l4mm_addr_t addr;
    l4mm_status want;
    /* mostly a live block, sometimes a wrong order or a random place */
    uint64_t start = rn(md.n);
    x = md.xb + start;
    for (uint64_t i = 0; i < md.n; i++) {
        uint64_t j = (start + i) % md.n;
        if (md.head[j]) {
            x = md.xb + j;
            break;
        }
    }
    k = md.head[x - md.xb] ? (unsigned)(md.head[x - md.xb] - 1) : pick_order();
    if (rn(8) == 0)
        k = pick_order();
    if (rn(16) == 0)
        x = pick_unit();
    addr = x << md.us;
    if (md.us > 0 && rn(30) == 0)
        addr += 1u;
    want = block_args(x, k, addr);
    if (want == L4MM_OK && md.head[x - md.xb] != (signed char)(k + 1))
        want = L4MM_ENOENT;
    snapshot();
    expect(l4mm_buddy_free(&bd, addr, k), want);
    if (want == L4MM_OK) {
        m_set(x, (uint64_t)1 << k, FREE);
        md.head[x - md.xb] = 0;
    }
}

/* Free everything, expect exactly the metadata of a fresh instance after the same adds. */
static void drain_and_compare(void)
{
    struct l4mm_buddy fresh;
    uint64_t *fm = calloc(1, meta_sz);
    assert_non_null(fm);
    for (uint64_t i = 0; i < md.n; i++) {
        if (md.head[i]) {
            unsigned k = (unsigned)(md.head[i] - 1);
            assert_int_equal(l4mm_buddy_free(&bd, (md.xb + i) << md.us, k), L4MM_OK);
            m_set(md.xb + i, (uint64_t)1 << k, FREE);
            md.head[i] = 0;
        }
    }
    assert_int_equal(
        l4mm_buddy_init(&fresh, fm, meta_sz, md.xb << md.us, md.n << md.us, md.us, md.mo), L4MM_OK);
    for (uint64_t i = 0; i < md.n;) { /* add the free runs, in random-sized pieces */
        uint64_t j = i;
        if (md.st[i] != FREE) {
            i++;
            continue;
        }
        while (j < md.n && md.st[j] == FREE && (j == i || rn(8) != 0))
            j++;
        assert_int_equal(l4mm_buddy_add(&fresh, (md.xb + i) << md.us, (j - i) << md.us), L4MM_OK);
        i = j;
    }
    assert_memory_equal(fm, meta, meta_sz);
    assert_int_equal(l4mm_buddy_check(&fresh), L4MM_OK);
    compare();
    free(fm);
}

static void episode(unsigned nops)
{
    /* a third of the episodes: an aligned power-of-two range, all free at the start (big
     * blocks, so ghost splits and their memo are common) */
    int clean = rn(3) == 0;
    uint64_t n = clean ? (uint64_t)16 << rn(5) : 1 + rn(rn(4) == 0 ? 16 : MAXU);
    unsigned us = rn(3) == 0 ? 0u : (rn(2) ? 12u : (unsigned)rn(20));
    unsigned mo = rn(6) == 0 ? 20u + (unsigned)rn(63 - 20 - us + 1) : (unsigned)rn(10);
    uint64_t xb, lim = UINT64_MAX >> us;
    switch (rn(5)) {
    case 0: xb = 0; break;
    case 1: xb = rn(1000); break;                              /* unaligned, small */
    case 2: xb = ((0x100000000ull >> us) + rn(100000)); break; /* above 4 GiB */
    case 3: xb = lim - n - rn(3); break;                       /* near the top of 64 bits */
    default: xb = rn(1u << 20) * 64u; break;
    }
    if (clean)
        xb &= ~(n - 1u);
    if (mo + us > 63)
        mo = 63 - us;
    memset(&md, 0, sizeof md);
    md.xb = xb;
    md.n = n;
    md.us = us;
    md.mo = mo;
    meta_sz = l4mm_buddy_meta_size(xb << us, n << us, us, mo);
    assert_true(meta_sz > 0 && meta_sz != SIZE_MAX);
    meta = malloc(meta_sz);
    snap_m = malloc(meta_sz);
    assert_non_null(meta);
    assert_non_null(snap_m);
    assert_int_equal(l4mm_buddy_init(&bd, meta, meta_sz - 8u, xb << us, n << us, us, mo),
                     L4MM_EINVAL);
    assert_int_equal(l4mm_buddy_init(&bd, meta, meta_sz, xb << us, n << us, us, mo), L4MM_OK);
    compare();
    if (clean) {
        assert_int_equal(l4mm_buddy_add(&bd, xb << us, n << us), L4MM_OK);
        m_set(xb, n, FREE);
        compare();
    }
    for (unsigned i = 0; i < nops; i++) {
        unsigned r = (unsigned)rn(100);
        if (clean && i < 40 && r < 50) /* early in a clean episode: mostly ping-pongs */
            op_ping_pong();
        else if (r < 14)
            op_range(0);
        else if (r < 24)
            op_range(1);
        else if (r < 42)
            op_alloc();
        else if (r < 50)
            op_ping_pong();
        else if (r < 58)
            op_alloc_in();
        else if (r < 68)
            op_alloc_at();
        else
            op_free();
        compare();
        ops_done++;
    }
    drain_and_compare();
    free(meta);
    free(snap_m);
}

static void test_buddy_model_random_ops_match_reference(void **state)
{
    unsigned long target = MODEL_SANITIZED ? 400000ul : 1000000ul;
    const char *env = getenv("L4MM_MODEL_OPS");
    (void)state;
    if (env)
        target = strtoul(env, NULL, 10);
    while (ops_done < target)
        episode(200 + (unsigned)rn(1800));
    assert_true(ops_done >= target);
    print_message("%lu ops: OK %lu EINVAL %lu ENOMEM %lu ENOENT %lu EBUSY %lu, memo %lu\n",
                  ops_done, outcome[L4MM_OK], outcome[L4MM_EINVAL], outcome[L4MM_ENOMEM],
                  outcome[L4MM_ENOENT], outcome[L4MM_EBUSY], memo_hits);
    assert_true(memo_hits > target / 1000); /* the O(1) path must have been exercised */
    /* every outcome must have been exercised, or the test proves little */
    assert_true(outcome[L4MM_OK] > target / 4 && outcome[L4MM_EINVAL] > 0 &&
                outcome[L4MM_ENOMEM] > 0 && outcome[L4MM_ENOENT] > 0 && outcome[L4MM_EBUSY] > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buddy_model_random_ops_match_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
