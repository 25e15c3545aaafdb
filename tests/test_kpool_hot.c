/* The "hot" memo of kpool and kcache: a free of exactly the page/object that the previous
 * mutating call handed out by the fast path skips validation. These tests show that it is
 * an exact undo of that alloc, that every other mutating call clears it (so the general,
 * validating path runs with the same results as before), and that check() covers it.
 * The differential tests run two identical instances side by side: one frees normally, the
 * other has its memo cleared before every free (forcing the general path); every status,
 * hook call, counter and list must agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_kpool_util.h"

/* ---- kpool ------------------------------------------------------------------------------ */

/* Everything observable of a pool, with pages as arena indices (so twins compare). */
struct psnap {
    struct l4mm_kpool_stats st;
    size_t limit[3], free_mark;
    unsigned flags, depth;
    size_t list[256];
    size_t n;
};

static void psnap_take(struct psnap *s, const struct fix *f)
{
    memset(s, 0, sizeof *s);
    l4mm_kpool_stats(&f->p, &s->st);
    for (int i = 0; i < 3; i++)
        s->limit[i] = f->p.limit[i];
    s->free_mark = f->p.free_mark;
    s->flags = f->p.flags;
    s->depth = f->p.depth;
    s->n = f->p.n;
    void *const *w = f->p.head;
    for (size_t i = 0; i < f->p.n && i < 256; i++) {
        s->list[i] = arena_index(&f->a, w);
        w = w[0];
    }
}

static void psnap_equal(const struct psnap *a, const struct psnap *b)
{
    assert_memory_equal(a, b, sizeof *a);
}

static bool hardened(void)
{
#ifdef L4MM_HARDEN
    return true;
#else
    return false;
#endif
}

static l4mm_status p_alloc(struct fix *f, enum l4mm_kpool_class cls, void **pg, bool inl)
{
    return inl ? l4mm_kpool_alloc_fast(&f->p, cls, pg) : l4mm_kpool_alloc(&f->p, cls, pg);
}

static l4mm_status p_free(struct fix *f, void *pg, bool inl)
{
    return inl ? l4mm_kpool_free_fast(&f->p, pg) : l4mm_kpool_free(&f->p, pg);
}

/* Take k pages and put them back, so `lowest` sits k below n and the next allocations
 * down to it are fast (right after init, lowest is "none" and allocations take the slow
 * path that records it). */
static void prime(struct fix *f, size_t k)
{
    void *pg[8];
    for (size_t i = 0; i < k; i++)
        assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_CRITICAL, &pg[i]), L4MM_OK);
    for (size_t i = 0; i < k; i++)
        assert_int_equal(l4mm_kpool_free(&f->p, pg[i]), L4MM_OK);
}

static void test_kpool_hot_free_restores_state_before_alloc(void **state)
{
    (void)state;
    for (int v = 0; v < 4; v++) {
        bool ia = v & 1, ifr = (v & 2) != 0;
        struct fix *f = fix_new(2, 4, 20);
        fix_give(f, 12);
        prime(f, 1);
        for (int c = 0; c < 3; c++) {
            struct psnap before, after;
            psnap_take(&before, f);
            unsigned char word0[sizeof(void *)];
            memcpy(word0, f->p.head, sizeof word0);
            void *pg = NULL;
            assert_int_equal(p_alloc(f, (enum l4mm_kpool_class)c, &pg, ia), L4MM_OK);
            assert_ptr_equal(f->p.hot, hardened() ? NULL : pg);
            assert_int_equal(l4mm_kpool_check(&f->p), L4MM_OK);
            memset(pg, 0x77, KP_TEST_PS); /* the caller owns the page now */
            assert_int_equal(p_free(f, pg, ifr), L4MM_OK);
            assert_null(f->p.hot);
            psnap_take(&after, f);
            psnap_equal(&before, &after);
            assert_memory_equal(word0, pg, sizeof word0); /* link restored byte for byte */
            /* a second free of it is a detected double free (it is the list head) */
            assert_int_equal(p_free(f, pg, ifr), L4MM_ENOENT);
            assert_int_equal(p_free(f, pg, !ifr), L4MM_ENOENT);
        }
        fix_free(f);
    }
}

static void test_kpool_free_null_refused_with_and_without_hot(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, 0, 8);
    fix_give(f, 4);
    prime(f, 1);
    assert_null(f->p.hot);
    assert_int_equal(l4mm_kpool_free(&f->p, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_free_fast(&f->p, NULL), L4MM_EINVAL);
    void *pg;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &pg), L4MM_OK);
    /* refused calls change nothing, the memo included */
    assert_int_equal(l4mm_kpool_free(&f->p, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_free_fast(&f->p, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_kpool_free(&f->p, (char *)pg + 64), L4MM_EINVAL);
    assert_ptr_equal(f->p.hot, hardened() ? NULL : pg);
    assert_int_equal(npages(&f->p), 3);
    assert_int_equal(l4mm_kpool_free(&f->p, pg), L4MM_OK);
    assert_int_equal(npages(&f->p), 4);
    assert_int_equal(l4mm_kpool_free(&f->p, NULL), L4MM_EINVAL);
    fix_free(f);
}

/* Each mutating call other than the fast alloc clears the memo. */
static void test_kpool_every_other_mutating_call_clears_hot(void **state)
{
    (void)state;
    if (hardened())
        skip();
    for (int k = 0; k < 7; k++) {
        struct fix *f = fix_new(1, 2, 16);
        fix_give(f, 8);
        prime(f, 2);
        fix_spares(f, 8);
        void *x, *y = NULL;
        assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &y), L4MM_OK);
        assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &x), L4MM_OK);
        assert_ptr_equal(f->p.hot, x);
        void *r;
        switch (k) {
        case 0: assert_int_equal(l4mm_kpool_free(&f->p, y), L4MM_OK); break;
        case 1: assert_int_equal(l4mm_kpool_free_fast(&f->p, y), L4MM_OK); break;
        case 2: fix_give(f, 1); break;
        case 3:
            assert_int_equal(l4mm_kpool_reclaim(&f->p, &r), L4MM_OK);
            f->r.spare[f->r.nspare++] = r;
            break;
        case 4: assert_int_equal(l4mm_kpool_refill_done(&f->p), L4MM_OK); break;
        case 5: assert_int_equal(l4mm_kpool_refill_failed(&f->p), L4MM_OK); break;
        default: {
            /* a slow-path alloc: take the pool down to low */
            void *z;
            while (npages(&f->p) > 2)
                assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_CRITICAL, &z), L4MM_OK);
            assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_CRITICAL, &z), L4MM_OK);
            assert_int_equal(f->r.want_calls, 1);
            break;
        }
        }
        assert_null(f->p.hot);
        assert_int_equal(l4mm_kpool_check(&f->p), L4MM_OK);
        assert_int_equal(l4mm_kpool_free(&f->p, x), L4MM_OK); /* the general path */
        assert_int_equal(l4mm_kpool_free(&f->p, x), L4MM_ENOENT);
        fix_free(f);
    }
}

/* n == high + 1 before the alloc: the free back to high + 1 owes an excess_pages call. */
static void test_kpool_excess_reported_after_alloc_free_above_high(void **state)
{
    (void)state;
    for (int inl = 0; inl < 2; inl++) {
        struct fix *f = fix_new(0, 1, 4);
        fix_give(f, 5);
        assert_int_equal(f->r.excess_calls, 1);
        void *pg;
        assert_int_equal(p_alloc(f, L4MM_KP_NORMAL, &pg, inl), L4MM_OK);
        assert_null(f->p.hot); /* no fast alloc above high */
        assert_int_equal(p_free(f, pg, inl), L4MM_OK);
        assert_int_equal(f->r.excess_calls, 2);
        assert_int_equal(f->r.last_excess, 1);
        struct l4mm_kpool_stats st;
        l4mm_kpool_stats(&f->p, &st);
        assert_int_equal(st.crossed_high, 2);
        /* and at n == high (lowest below) the pair is a hot one with no report */
        void *r[3];
        for (int j = 0; j < 3; j++)
            assert_int_equal(l4mm_kpool_reclaim(&f->p, &r[j]), L4MM_OK);
        assert_int_equal(l4mm_kpool_give(&f->p, r[0]), L4MM_OK);
        assert_int_equal(l4mm_kpool_give(&f->p, r[1]), L4MM_OK);
        assert_int_equal(npages(&f->p), 4);
        assert_int_equal(p_alloc(f, L4MM_KP_NORMAL, &pg, inl), L4MM_OK);
        assert_ptr_equal(f->p.hot, hardened() ? NULL : pg);
        assert_int_equal(p_free(f, pg, inl), L4MM_OK);
        assert_int_equal(f->r.excess_calls, 2);
        fix_free(f);
    }
}

/* A pager failure: the next free clears it, and an alloc below low asks again - also when
 * the failure came between the alloc and its free, or before a fast-looking alloc. */
static void test_kpool_refill_failed_then_hot_candidate_free_clears_failure(void **state)
{
    (void)state;
    for (int v = 0; v < 4; v++) {
        bool inl = v & 1, failed_before_alloc = (v & 2) != 0;
        struct fix *f = fix_new(0, 4, 10);
        fix_give(f, 3);
        void *a, *x;
        assert_int_equal(p_alloc(f, L4MM_KP_NORMAL, &a, inl), L4MM_OK); /* n 2: request */
        assert_int_equal(f->r.want_calls, 1);
        fix_give(f, 6); /* n 8, request still outstanding */
        if (failed_before_alloc)
            assert_int_equal(l4mm_kpool_refill_failed(&f->p), L4MM_OK);
        assert_int_equal(p_alloc(f, L4MM_KP_NORMAL, &x, inl), L4MM_OK); /* n 7 */
        if (failed_before_alloc)
            assert_null(f->p.hot); /* no fast alloc while the failure stands */
        else
            assert_int_equal(l4mm_kpool_refill_failed(&f->p), L4MM_OK);
        assert_null(f->p.hot);
        struct l4mm_kpool_stats st;
        l4mm_kpool_stats(&f->p, &st);
        assert_true(st.refill_blocked);
        assert_int_equal(p_free(f, x, inl), L4MM_OK);
        l4mm_kpool_stats(&f->p, &st);
        assert_false(st.refill_blocked);
        /* down below low: a new request */
        void *z;
        while (npages(&f->p) >= 4)
            assert_int_equal(p_alloc(f, L4MM_KP_NORMAL, &z, inl), L4MM_OK);
        assert_int_equal(f->r.want_calls, 2);
        (void)a;
        fix_free(f);
    }
}

/* Differential: twin pools, same operations; B's memo is cleared before every free. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

struct twin {
    struct fix *f;
    void *held[192];
    size_t nheld;
    void *last;
};

static l4mm_status twin_free(struct twin *t, size_t k, bool general, bool inl)
{
    void *pg = t->held[k];
    if (general)
        t->f->p.hot = NULL;
    l4mm_status st = p_free(t->f, pg, inl);
    if (st == L4MM_OK)
        t->held[k] = t->held[--t->nheld];
    return st;
}

static void test_kpool_hot_free_matches_general_free_randomized(void **state)
{
    (void)state;
    static const size_t cfgs[4][3] = { { 2, 4, 12 }, { 0, 0, 3 }, { 1, 6, 6 }, { 3, 8, 40 } };
    size_t hot_hits = 0;
    for (int c = 0; c < 4; c++) {
        struct twin T[2];
        for (int i = 0; i < 2; i++) {
            T[i].f = fix_new(cfgs[c][0], cfgs[c][1], cfgs[c][2]);
            T[i].nheld = 0;
            T[i].last = NULL;
            fix_give(T[i].f, 10);
            fix_spares(T[i].f, 64);
            T[i].f->r.want_give = 0;
        }
        uint64_t seed = 0x9e3779b97f4a7c15ULL + (unsigned)c;
        for (int op = 0; op < 60000; op++) {
            uint64_t r = rng_next(&seed);
            unsigned kind = (unsigned)(r % 16);
            bool inl = (r >> 8) & 1;
            size_t pick = (size_t)(r >> 16);
            l4mm_status st[2];
            for (int i = 0; i < 2; i++) {
                struct twin *t = &T[i];
                struct fix *f = t->f;
                f->r.oom_answer = (r >> 40) & 1 ? L4MM_OOM_RETRY : L4MM_OOM_FAIL;
                f->r.oom_give = (r >> 41) & 1;
                f->r.want_give = (r >> 42) % 4 == 0 ? 1 : 0;
                void *pg = NULL;
                st[i] = L4MM_OK;
                if (kind < 6) {
                    if (t->nheld < 192) {
                        st[i] = p_alloc(f, (enum l4mm_kpool_class)(pick % 3), &pg, inl);
                        if (st[i] == L4MM_OK)
                            t->held[t->nheld++] = pg;
                    }
                } else if (kind < 11) {
                    if (t->nheld > 0) {
                        /* mostly the last allocated: a hot free on A when nothing came between */
                        size_t k = (kind < 9) ? t->nheld - 1 : pick % t->nheld;
                        if (i == 0 && f->p.hot != NULL && t->held[k] == f->p.hot)
                            hot_hits++;
                        st[i] = twin_free(t, k, i == 1, inl);
                    }
                } else if (kind == 11) {
                    if (f->next < 150 && npages(&f->p) < 60)
                        fix_give(f, 1);
                } else if (kind == 12) {
                    st[i] = l4mm_kpool_reclaim(&f->p, &pg);
                    if (st[i] == L4MM_OK && f->r.nspare < 64)
                        f->r.spare[f->r.nspare++] = pg; /* hooks may give it back */
                } else if (kind == 13) {
                    st[i] = (pick & 1) ? l4mm_kpool_refill_done(&f->p)
                                       : l4mm_kpool_refill_failed(&f->p);
                } else if (kind == 14) {
                    /* refused calls: NULL, misaligned, double free of the list head */
                    st[i] = p_free(f, NULL, inl);
                    assert_int_equal(st[i], L4MM_EINVAL);
                    if (f->p.head != NULL)
                        assert_int_equal(p_free(f, f->p.head, inl), L4MM_ENOENT);
                } else if (t->nheld > 0) {
                    st[i] = p_free(f, (char *)t->held[pick % t->nheld] + 8, inl);
                    assert_int_equal(st[i], L4MM_EINVAL);
                }
            }
            assert_int_equal(st[0], st[1]);
            struct psnap a, b;
            psnap_take(&a, T[0].f);
            psnap_take(&b, T[1].f);
            psnap_equal(&a, &b);
            assert_int_equal(T[0].f->r.want_calls, T[1].f->r.want_calls);
            assert_int_equal(T[0].f->r.excess_calls, T[1].f->r.excess_calls);
            assert_int_equal(T[0].f->r.oom_calls, T[1].f->r.oom_calls);
            if (op % 64 == 0)
                assert_int_equal(l4mm_kpool_check(&T[0].f->p), L4MM_OK);
        }
        for (int i = 0; i < 2; i++)
            fix_free(T[i].f);
    }
    if (!hardened())
        assert_true(hot_hits > 1000);
}

static void test_kpool_check_detects_corrupt_hot(void **state)
{
    (void)state;
    struct fix *f = fix_new(0, 2, 16);
    fix_give(f, 8);
    prime(f, 1);
    void *x;
    assert_int_equal(l4mm_kpool_alloc(&f->p, L4MM_KP_NORMAL, &x), L4MM_OK);
    assert_ptr_equal(f->p.hot, hardened() ? NULL : x);
    assert_int_equal(l4mm_kpool_check(&f->p), L4MM_OK);
    void *saved = f->p.hot;
    f->p.hot = (char *)x + 8; /* misaligned */
    assert_int_equal(l4mm_kpool_check(&f->p), L4MM_ECORRUPT);
    f->p.hot = f->p.head; /* a page in the pool */
    assert_int_equal(l4mm_kpool_check(&f->p), L4MM_ECORRUPT);
    f->p.hot = saved;
    if (!hardened()) {
        size_t n = f->p.n;
        f->p.n = 1; /* below low: no fast alloc could have run */
        assert_int_equal(l4mm_kpool_check(&f->p), L4MM_ECORRUPT);
        f->p.n = n;
        f->p.flags |= 2u; /* a pager failure */
        assert_int_equal(l4mm_kpool_check(&f->p), L4MM_ECORRUPT);
        f->p.flags &= ~2u;
    } else {
        f->p.hot = x; /* hardened builds keep no memo */
        assert_int_equal(l4mm_kpool_check(&f->p), L4MM_ECORRUPT);
        f->p.hot = NULL;
    }
    assert_int_equal(l4mm_kpool_check(&f->p), L4MM_OK);
    assert_int_equal(l4mm_kpool_free(&f->p, x), L4MM_OK);
    fix_free(f);
}

/* ---- kcache ----------------------------------------------------------------------------- */

#define CPS  4096u
#define CNPG 8u

struct cside {
    struct arena a;
    struct l4mm_kpool p;
    struct l4mm_kcache c;
    void *objs[2048];
    size_t n;
};

static void cside_init(struct cside *s, size_t obj_size)
{
    arena_init(&s->a, CPS, CNPG);
    const struct l4mm_kpool_config cfg = { CPS, 0, 0, CNPG };
    assert_int_equal(l4mm_kpool_init(&s->p, &cfg, NULL), L4MM_OK);
    for (size_t i = 0; i < CNPG; i++)
        assert_int_equal(l4mm_kpool_give(&s->p, arena_page(&s->a, i)), L4MM_OK);
    assert_int_equal(l4mm_kcache_init(&s->c, &s->p, obj_size, L4MM_KP_NORMAL), L4MM_OK);
    s->n = 0;
}

static void cside_fini(struct cside *s)
{
    assert_int_equal(l4mm_kcache_check(&s->c), L4MM_OK);
    assert_int_equal(l4mm_kpool_check(&s->p), L4MM_OK);
    arena_fini(&s->a);
}

static l4mm_status c_alloc(struct cside *s, void **o, bool inl)
{
    return inl ? l4mm_kcache_alloc_fast(&s->c, o) : l4mm_kcache_alloc(&s->c, o);
}

static l4mm_status c_free(struct cside *s, void *o, bool inl)
{
    return inl ? l4mm_kcache_free_fast(&s->c, o) : l4mm_kcache_free(&s->c, o);
}

/* Everything observable of a cache, pages as arena indices. */
struct csnap {
    struct l4mm_kcache_stats st;
    struct l4mm_kpool_stats ps;
    size_t cur, empty, partial, full; /* index + 1, 0: none */
    unsigned char hdr[CNPG][1024];    /* slab headers from used2 on, incl. link arrays */
};

static size_t c_idx(const struct cside *s, const void *slab)
{
    if (slab == NULL || slab == &s->c.none)
        return 0;
    return arena_index(&s->a, slab) + 1;
}

static void csnap_take(struct csnap *n, const struct cside *s)
{
    memset(n, 0, sizeof *n);
    l4mm_kcache_stats(&s->c, &n->st);
    l4mm_kpool_stats(&s->p, &n->ps);
    n->cur = c_idx(s, s->c.cur);
    n->empty = c_idx(s, s->c.empty);
    n->partial = c_idx(s, s->c.partial);
    n->full = c_idx(s, s->c.full);
    for (size_t i = 0; i < CNPG; i++) {
        const struct l4mm_kcache_slab *h = arena_page(&s->a, i);
        /* from used2 to the end of the link array (the tag, list links and a free page's
         * pool link are addresses, which differ between twins) */
        size_t from = offsetof(struct l4mm_kcache_slab, used2), len = s->c.hdr - from;
        assert_true(len <= sizeof n->hdr[i]);
        memcpy(n->hdr[i], (const unsigned char *)h + from, len);
    }
}

static void test_kcache_hot_free_restores_state_before_alloc(void **state)
{
    (void)state;
    for (int v = 0; v < 4; v++) {
        bool ia = v & 1, ifr = (v & 2) != 0;
        struct cside *s = calloc(1, sizeof *s);
        assert_non_null(s);
        cside_init(s, 48);
        for (int i = 0; i < 5; i++)
            assert_int_equal(l4mm_kcache_alloc(&s->c, &s->objs[s->n++]), L4MM_OK);
        struct csnap *b = malloc(sizeof *b), *a = malloc(sizeof *a);
        assert_non_null(b);
        assert_non_null(a);
        csnap_take(b, s);
        void *o;
        assert_int_equal(c_alloc(s, &o, ia), L4MM_OK);
        assert_ptr_equal(s->c.hot, hardened() ? NULL : o);
        assert_int_equal(l4mm_kcache_check(&s->c), L4MM_OK);
        memset(o, 0x66, 48);
        assert_int_equal(c_free(s, o, ifr), L4MM_OK);
        assert_null(s->c.hot);
        csnap_take(a, s);
        assert_memory_equal(a, b, sizeof *a);
        assert_int_equal(c_free(s, o, ifr), L4MM_ENOENT); /* double free after a hot free */
        assert_int_equal(c_free(s, o, !ifr), L4MM_ENOENT);
        assert_int_equal(c_free(s, NULL, ifr), L4MM_EINVAL);
        free(a);
        free(b);
        cside_fini(s);
        free(s);
    }
}

static void test_kcache_every_other_mutating_call_clears_hot(void **state)
{
    (void)state;
    if (hardened())
        skip();
    for (int k = 0; k < 4; k++) {
        struct cside *s = calloc(1, sizeof *s);
        assert_non_null(s);
        cside_init(s, 64);
        void *y, *x;
        assert_int_equal(l4mm_kcache_alloc(&s->c, &y), L4MM_OK);
        assert_int_equal(l4mm_kcache_alloc(&s->c, &x), L4MM_OK);
        assert_ptr_equal(s->c.hot, x);
        assert_int_equal(l4mm_kcache_free(&s->c, NULL), L4MM_EINVAL); /* refused: kept */
        assert_ptr_equal(s->c.hot, x);
        switch (k) {
        case 0: assert_int_equal(l4mm_kcache_free(&s->c, y), L4MM_OK); break;
        case 1: assert_int_equal(l4mm_kcache_free_fast(&s->c, y), L4MM_OK); break;
        case 2: assert_int_equal(l4mm_kcache_shrink(&s->c), L4MM_OK); break;
        default: {
            /* a slow-path alloc: fill cur, the next alloc switches slabs */
            void *z = NULL;
            size_t cap = s->c.cap;
            for (size_t i = 2; i < cap; i++)
                assert_int_equal(l4mm_kcache_alloc(&s->c, &z), L4MM_OK);
            assert_ptr_equal(s->c.hot, z);
            assert_int_equal(l4mm_kcache_alloc(&s->c, &z), L4MM_OK);
            break;
        }
        }
        assert_null(s->c.hot);
        assert_int_equal(l4mm_kcache_check(&s->c), L4MM_OK);
        assert_int_equal(l4mm_kcache_free(&s->c, x), L4MM_OK);
        assert_int_equal(l4mm_kcache_free(&s->c, x), L4MM_ENOENT);
        cside_fini(s);
        free(s);
    }
}

/* Alloc from an empty slab, then free it: the page hysteresis of the general path (keep one
 * empty page, return a second one; switch to a partial slab). Twins: B frees generally. */
static void kc_twin_case(int which, bool ia, bool ifr)
{
    struct cside *S[2];
    void *o[2];
    for (int i = 0; i < 2; i++) {
        struct cside *s = S[i] = calloc(1, sizeof *S[i]);
        assert_non_null(s);
        cside_init(s, 200);
        size_t cap = s->c.cap;
        void *t;
        void *first[64];
        assert_true(cap + 1 <= 64);
        switch (which) {
        case 0: /* cur is the kept empty slab, nothing else: the alloc takes it 0 -> 1 */
            assert_int_equal(l4mm_kcache_alloc(&s->c, &t), L4MM_OK);
            assert_int_equal(l4mm_kcache_free(&s->c, t), L4MM_OK);
            break;
        case 1:
            /* cur empty and a partial slab: freeing cur's only object switches cur to the
             * partial slab and keeps the old one as the empty page */
            for (size_t j = 0; j < cap + 1; j++)
                assert_int_equal(l4mm_kcache_alloc(&s->c, &first[j]), L4MM_OK);
            assert_int_equal(l4mm_kcache_free(&s->c, first[cap]), L4MM_OK); /* cur empty */
            assert_int_equal(l4mm_kcache_free(&s->c, first[0]), L4MM_OK);   /* full->partial */
            assert_non_null(s->c.partial);
            break;
        default: /* the alloc fills cur: the free makes it partial again, no list move */
            for (size_t j = 0; j + 1 < cap; j++)
                assert_int_equal(l4mm_kcache_alloc(&s->c, &first[j]), L4MM_OK);
            break;
        }
        assert_int_equal(c_alloc(s, &o[i], ia), L4MM_OK);
        if (i == 1)
            s->c.hot = NULL; /* B: the general path */
        assert_int_equal(l4mm_kcache_check(&s->c), L4MM_OK);
        assert_int_equal(c_free(s, o[i], ifr), L4MM_OK);
        assert_null(s->c.hot);
    }
    struct csnap *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    csnap_take(a, S[0]);
    csnap_take(b, S[1]);
    assert_memory_equal(a, b, sizeof *a);
    assert_int_equal(a->st.empty_pages, which < 2 ? 1 : 0);
    if (which == 1) /* cur moved to the partial slab, the old cur is the kept empty page */
        assert_true(a->empty != 0 && a->partial == 0 && a->cur != a->empty);
    free(a);
    free(b);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(c_free(S[i], o[i], ifr), L4MM_ENOENT);
        cside_fini(S[i]);
        free(S[i]);
    }
}

static void test_kcache_hot_free_of_first_object_keeps_page_hysteresis(void **state)
{
    (void)state;
    for (int which = 0; which < 3; which++)
        for (int v = 0; v < 4; v++)
            kc_twin_case(which, v & 1, (v & 2) != 0);
}

static void test_kcache_hot_free_matches_general_free_randomized(void **state)
{
    (void)state;
    size_t hot_hits = 0;
    static const size_t sizes[3] = { 8, 200, 1000 };
    for (int c = 0; c < 3; c++) {
        struct cside *S[2];
        for (int i = 0; i < 2; i++) {
            S[i] = calloc(1, sizeof *S[i]);
            assert_non_null(S[i]);
            cside_init(S[i], sizes[c]);
        }
        uint64_t seed = 0x0123456789abcdefULL + (unsigned)c;
        for (int op = 0; op < 80000; op++) {
            uint64_t r = rng_next(&seed);
            unsigned kind = (unsigned)(r % 16);
            bool inl = (r >> 8) & 1;
            size_t pick = (size_t)(r >> 16);
            l4mm_status st[2];
            size_t off[2] = { 0, 0 };
            for (int i = 0; i < 2; i++) {
                struct cside *s = S[i];
                st[i] = L4MM_OK;
                if (kind < 7) {
                    void *o;
                    if (s->n < 2048 && (st[i] = c_alloc(s, &o, inl)) == L4MM_OK) {
                        s->objs[s->n++] = o;
                        off[i] = (size_t)((unsigned char *)o - s->a.mem);
                    }
                } else if (kind < 13) {
                    if (s->n > 0) {
                        size_t k = kind < 11 ? s->n - 1 : pick % s->n;
                        void *o = s->objs[k];
                        if (i == 0 && s->c.hot != NULL && s->c.hot == o)
                            hot_hits++;
                        if (i == 1)
                            s->c.hot = NULL;
                        st[i] = c_free(s, o, inl);
                        assert_int_equal(st[i], L4MM_OK);
                        s->objs[k] = s->objs[--s->n];
                        /* immediately again: refused (ENOENT, or EINVAL once its page left) */
                        l4mm_status again = c_free(s, o, !inl);
                        assert_true(again == L4MM_ENOENT || again == L4MM_EINVAL);
                    }
                } else if (kind == 13) {
                    st[i] = l4mm_kcache_shrink(&s->c);
                } else if (kind == 14) {
                    st[i] = c_free(s, NULL, inl);
                } else if (s->n > 0) {
                    st[i] = c_free(s, (char *)s->objs[pick % s->n] + 4, inl);
                }
            }
            assert_int_equal(st[0], st[1]);
            assert_int_equal(off[0], off[1]);
            if (op % 16 == 0) {
                struct csnap *a = malloc(sizeof *a), *b = malloc(sizeof *b);
                assert_non_null(a);
                assert_non_null(b);
                csnap_take(a, S[0]);
                csnap_take(b, S[1]);
                assert_memory_equal(a, b, sizeof *a);
                free(a);
                free(b);
                assert_int_equal(l4mm_kcache_check(&S[0]->c), L4MM_OK);
            }
        }
        for (int i = 0; i < 2; i++) {
            cside_fini(S[i]);
            free(S[i]);
        }
    }
    if (!hardened())
        assert_true(hot_hits > 1000);
}

static void test_kcache_check_detects_corrupt_hot(void **state)
{
    (void)state;
    struct cside *s = calloc(1, sizeof *s);
    assert_non_null(s);
    cside_init(s, 64);
    void *y, *x;
    assert_int_equal(l4mm_kcache_alloc(&s->c, &y), L4MM_OK);
    assert_int_equal(l4mm_kcache_alloc(&s->c, &x), L4MM_OK);
    assert_int_equal(l4mm_kcache_check(&s->c), L4MM_OK);
    if (!hardened()) {
        size_t hidx = s->c.hidx;
        s->c.hidx = hidx + 1; /* a free slot */
        assert_int_equal(l4mm_kcache_check(&s->c), L4MM_ECORRUPT);
        s->c.hidx = s->c.cap + 5; /* out of range */
        assert_int_equal(l4mm_kcache_check(&s->c), L4MM_ECORRUPT);
        s->c.hidx = hidx;
        s->c.hot = y; /* in use, but not slot hidx */
        assert_int_equal(l4mm_kcache_check(&s->c), L4MM_ECORRUPT);
        s->c.hot = (char *)x + 8;
        assert_int_equal(l4mm_kcache_check(&s->c), L4MM_ECORRUPT);
        s->c.hot = x;
    } else {
        s->c.hot = x;
        assert_int_equal(l4mm_kcache_check(&s->c), L4MM_ECORRUPT);
        s->c.hot = NULL;
    }
    assert_int_equal(l4mm_kcache_check(&s->c), L4MM_OK);
    assert_int_equal(l4mm_kcache_free(&s->c, x), L4MM_OK);
    assert_int_equal(l4mm_kcache_free(&s->c, y), L4MM_OK);
    /* a memo on the stand-in (no slab) */
    assert_int_equal(l4mm_kcache_shrink(&s->c), L4MM_OK);
    s->c.hot = x;
    assert_int_equal(l4mm_kcache_check(&s->c), L4MM_ECORRUPT);
    s->c.hot = NULL;
    cside_fini(s);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kpool_hot_free_restores_state_before_alloc),
        cmocka_unit_test(test_kpool_free_null_refused_with_and_without_hot),
        cmocka_unit_test(test_kpool_every_other_mutating_call_clears_hot),
        cmocka_unit_test(test_kpool_excess_reported_after_alloc_free_above_high),
        cmocka_unit_test(test_kpool_refill_failed_then_hot_candidate_free_clears_failure),
        cmocka_unit_test(test_kpool_hot_free_matches_general_free_randomized),
        cmocka_unit_test(test_kpool_check_detects_corrupt_hot),
        cmocka_unit_test(test_kcache_hot_free_restores_state_before_alloc),
        cmocka_unit_test(test_kcache_every_other_mutating_call_clears_hot),
        cmocka_unit_test(test_kcache_hot_free_of_first_object_keeps_page_hysteresis),
        cmocka_unit_test(test_kcache_hot_free_matches_general_free_randomized),
        cmocka_unit_test(test_kcache_check_detects_corrupt_hot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
