/*
 * test_kpool_util.h - shared helpers of the kpool tests (page arena, recording hooks).
 */
#ifndef TEST_KPOOL_UTIL_H
#define TEST_KPOOL_UTIL_H

#include <stdlib.h>
#include <string.h>

#include <l4mm/kpool.h>

/* An aligned arena of pages for one test. */
struct arena {
    unsigned char *mem;
    size_t page_size;
    size_t npages;
};

static inline void arena_init(struct arena *a, size_t page_size, size_t npages)
{
    a->page_size = page_size;
    a->npages = npages;
    a->mem = aligned_alloc(page_size, page_size * npages);
    assert_non_null(a->mem);
    memset(a->mem, 0xa5, page_size * npages);
}

static inline void arena_fini(struct arena *a)
{
    free(a->mem);
    a->mem = NULL;
}

static inline void *arena_page(const struct arena *a, size_t i)
{
    assert_true(i < a->npages);
    return a->mem + i * a->page_size;
}

static inline size_t arena_index(const struct arena *a, const void *page)
{
    size_t off = (size_t)((const unsigned char *)page - a->mem);
    assert_true(off % a->page_size == 0);
    assert_true(off / a->page_size < a->npages);
    return off / a->page_size;
}

#define REC_MAX_EVENTS 64

enum rec_kind { EV_WANT, EV_EXCESS, EV_OOM };

struct rec_event {
    enum rec_kind kind;
    size_t arg; /* npages, or attempt */
    enum l4mm_kpool_class cls;
    size_t pool_pages; /* n when the hook ran */
};

/* Recording hooks; the oom hook gives `oom_give` pages per call from `spare` and answers
 * `oom_answer`. */
struct rec {
    struct l4mm_kpool *pool;
    struct rec_event ev[REC_MAX_EVENTS];
    size_t nev;
    size_t want_calls, excess_calls, oom_calls;
    size_t last_want, last_excess;
    enum l4mm_oom_action oom_answer;
    size_t oom_give;
    size_t want_give; /* pages want_pages gives synchronously */
    void **spare;     /* pages hooks may give */
    size_t nspare;
    /* re-entry probe: statuses of calls attempted from inside a hook */
    int probe;
    l4mm_status probe_alloc, probe_free, probe_reclaim, probe_done, probe_failed, probe_give;
    l4mm_status probe_einval;
    void *probe_page; /* a page allocated before, freed from the hook */
};

static inline void rec_push(struct rec *r, enum rec_kind k, size_t arg, enum l4mm_kpool_class cls)
{
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(r->pool, &s);
    if (r->nev < REC_MAX_EVENTS) {
        r->ev[r->nev].kind = k;
        r->ev[r->nev].arg = arg;
        r->ev[r->nev].cls = cls;
        r->ev[r->nev].pool_pages = s.pages;
        r->nev++;
    }
}

static inline void rec_give(struct rec *r, size_t k)
{
    for (size_t i = 0; i < k && r->nspare > 0; i++)
        assert_int_equal(l4mm_kpool_give(r->pool, r->spare[--r->nspare]), L4MM_OK);
}

static inline void rec_probe(struct rec *r)
{
    if (!r->probe)
        return;
    void *pg = NULL;
    r->probe_alloc = l4mm_kpool_alloc(r->pool, L4MM_KP_CRITICAL, &pg);
    r->probe_einval = l4mm_kpool_alloc(r->pool, L4MM_KP_CRITICAL, NULL);
    r->probe_free = l4mm_kpool_free(r->pool, r->probe_page);
    r->probe_reclaim = l4mm_kpool_reclaim(r->pool, &pg);
    r->probe_done = l4mm_kpool_refill_done(r->pool);
    r->probe_failed = l4mm_kpool_refill_failed(r->pool);
    assert_int_equal(l4mm_kpool_check(r->pool), L4MM_OK);
    if (r->nspare > 0) {
        r->probe_give = l4mm_kpool_give(r->pool, r->spare[r->nspare - 1]);
        if (r->probe_give == L4MM_OK)
            r->nspare--;
    }
    r->probe = 0;
}

static inline void rec_want(void *ctx, size_t npages)
{
    struct rec *r = ctx;
    r->want_calls++;
    r->last_want = npages;
    rec_push(r, EV_WANT, npages, L4MM_KP_CRITICAL);
    rec_probe(r);
    rec_give(r, r->want_give);
}

static inline void rec_excess(void *ctx, size_t npages)
{
    struct rec *r = ctx;
    r->excess_calls++;
    r->last_excess = npages;
    rec_push(r, EV_EXCESS, npages, L4MM_KP_CRITICAL);
    rec_probe(r);
}

static inline enum l4mm_oom_action rec_oom(void *ctx, enum l4mm_kpool_class cls, size_t attempt)
{
    struct rec *r = ctx;
    r->oom_calls++;
    rec_push(r, EV_OOM, attempt, cls);
    rec_probe(r);
    rec_give(r, r->oom_give);
    return r->oom_answer;
}

static inline void rec_init(struct rec *r, struct l4mm_kpool *p, struct l4mm_kpool_ops *ops)
{
    memset(r, 0, sizeof *r);
    r->pool = p;
    r->oom_answer = L4MM_OOM_FAIL;
    ops->want_pages = rec_want;
    ops->excess_pages = rec_excess;
    ops->oom = rec_oom;
    ops->ctx = r;
}

/* ---- a pool with recording hooks over a 256-page arena (page size KP_TEST_PS) ---------- */

#define KP_TEST_PS 256u

struct fix {
    struct arena a;
    struct l4mm_kpool p;
    struct l4mm_kpool_ops ops;
    struct rec r;
    void *spare[64];
    size_t next; /* next unused arena page */
};

static inline struct fix *fix_new(size_t reserve, size_t low, size_t high)
{
    struct fix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    arena_init(&f->a, KP_TEST_PS, 256);
    rec_init(&f->r, &f->p, &f->ops);
    struct l4mm_kpool_config cfg = { KP_TEST_PS, reserve, low, high };
    assert_int_equal(l4mm_kpool_init(&f->p, &cfg, &f->ops), L4MM_OK);
    /* spare pages for hooks: the last 64 of the arena */
    for (size_t i = 0; i < 64; i++)
        f->spare[i] = arena_page(&f->a, 192 + i);
    f->r.spare = f->spare;
    f->r.nspare = 0;
    return f;
}

static inline void fix_give(struct fix *f, size_t k)
{
    for (size_t i = 0; i < k; i++)
        assert_int_equal(l4mm_kpool_give(&f->p, arena_page(&f->a, f->next++)), L4MM_OK);
}

static inline void fix_spares(struct fix *f, size_t k)
{
    f->r.nspare = k;
}

static inline void fix_free(struct fix *f)
{
    assert_int_equal(l4mm_kpool_check(&f->p), L4MM_OK);
    arena_fini(&f->a);
    free(f);
}

static inline size_t npages(const struct l4mm_kpool *p)
{
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(p, &s);
    return s.pages;
}

#endif /* TEST_KPOOL_UTIL_H */
