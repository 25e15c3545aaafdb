/*
 * fuzz_kpool.c - libFuzzer harness: an op stream against a kpool, an OOM chain with a
 * fallback pool, and two object caches. Hooks are steered by the input too (OOM answers,
 * synchronous gives, re-entry attempts). After every op both pools and both caches must pass
 * their checkers, and the harness's own model must agree:
 *   - no page or object is handed out twice (ownership table);
 *   - CRITICAL succeeds whenever the pool held a page; NORMAL/DEFERRABLE leave >= reserve;
 *   - DEFERRABLE never calls the oom hook; EINVAL-class misuse changes nothing.
 * Any disagreement aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <l4mm/kpool.h>

#define NP     64u
#define MAXPS  1024u
#define MAXOBJ 256u

enum { O_PAGER, O_POOL, O_KERNEL };

struct fz {
    const uint8_t *d;
    size_t n, i;
    size_t ps;
    unsigned char *mem;
    unsigned own[NP];
    struct l4mm_kpool p, fb;
    struct l4mm_oom_chain ch;
    struct l4mm_kcache c[2];
    void *objs[MAXOBJ];
    size_t nobjs;
    size_t reserve;
    int in_oom, oom_calls;
    uint8_t oom_mode; /* bit0: answer RETRY, bit1: give a pager page, bit2: probe re-entry */
    uint8_t want_mode;
    int use_chain;
};

static struct fz F;
static _Alignas(4096) unsigned char g_mem[NP * MAXPS];

#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static uint8_t byte(struct fz *f)
{
    return f->i < f->n ? f->d[f->i++] : 0;
}

static void *page(struct fz *f, size_t k)
{
    return f->mem + k * f->ps;
}

static size_t index_of(struct fz *f, const void *pg)
{
    size_t off = (size_t)((const unsigned char *)pg - f->mem);
    REQUIRE(off % f->ps == 0 && off / f->ps < NP);
    return off / f->ps;
}

static size_t pages(const struct l4mm_kpool *p)
{
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(p, &s);
    return s.pages;
}

/* Gives one pager page to pool p (from inside a hook or not). */
static void give_one(struct fz *f, struct l4mm_kpool *p)
{
    for (size_t k = 0; k < NP; k++) {
        if (f->own[k] != O_PAGER)
            continue;
        REQUIRE(l4mm_kpool_give(p, page(f, k)) == L4MM_OK);
        f->own[k] = O_POOL;
        return;
    }
}

static void h_want(void *ctx, size_t npages)
{
    struct fz *f = ctx;
    REQUIRE(npages >= 1);
    if (f->want_mode & 1)
        give_one(f, &f->p);
    REQUIRE(l4mm_kpool_refill_done(&f->p) == L4MM_EBUSY);
}

static void h_excess(void *ctx, size_t npages)
{
    (void)ctx;
    REQUIRE(npages == 1);
}

static enum l4mm_oom_action h_oom(void *ctx, enum l4mm_kpool_class cls, size_t attempt)
{
    struct fz *f = ctx;
    REQUIRE(cls != L4MM_KP_DEFERRABLE && attempt < L4MM_KPOOL_OOM_RETRIES);
    f->oom_calls++;
    if (f->oom_mode & 4) {
        void *pg;
        REQUIRE(l4mm_kpool_alloc(&f->p, L4MM_KP_CRITICAL, &pg) == L4MM_EBUSY);
        REQUIRE(l4mm_kpool_reclaim(&f->p, &pg) == L4MM_EBUSY);
    }
    if (f->use_chain)
        return l4mm_oom_chain_hook(&f->ch, cls, attempt);
    if (f->oom_mode & 2)
        give_one(f, &f->p);
    return (f->oom_mode & 1) ? L4MM_OOM_RETRY : L4MM_OOM_FAIL;
}

static void kill_cb(void *ctx, struct l4mm_kpool *pool, enum l4mm_kpool_class cls, size_t a)
{
    (void)cls;
    (void)a;
    struct fz *f = ctx;
    /* "kill" a task: the first kernel-held page goes back */
    for (size_t k = 0; k < NP; k++) {
        if (f->own[k] != O_KERNEL)
            continue;
        REQUIRE(l4mm_kpool_give(pool, page(f, k)) == L4MM_OK);
        f->own[k] = O_POOL;
        return;
    }
}

static void reclaim_cb(void *ctx, struct l4mm_kpool *pool, enum l4mm_kpool_class cls, size_t a)
{
    (void)pool;
    (void)cls;
    (void)a;
    struct fz *f = ctx;
    REQUIRE(l4mm_kcache_shrink(&f->c[0]) == L4MM_OK);
    REQUIRE(l4mm_kcache_shrink(&f->c[1]) == L4MM_OK);
}

static void check_all(struct fz *f)
{
    REQUIRE(l4mm_kpool_check(&f->p) == L4MM_OK);
    REQUIRE(l4mm_kpool_check(&f->fb) == L4MM_OK);
    REQUIRE(l4mm_kcache_check(&f->c[0]) == L4MM_OK);
    REQUIRE(l4mm_kcache_check(&f->c[1]) == L4MM_OK);
}

static void op_alloc(struct fz *f, uint8_t b)
{
    enum l4mm_kpool_class cls = (enum l4mm_kpool_class)(b % 3);
    size_t n0 = pages(&f->p);
    int calls0 = f->oom_calls;
    void *pg = NULL;
    /* bit 6 picks the inline fast path: same results required */
    l4mm_status st =
        (b & 0x40) ? l4mm_kpool_alloc_fast(&f->p, cls, &pg) : l4mm_kpool_alloc(&f->p, cls, &pg);
    if (cls == L4MM_KP_CRITICAL && n0 > 0)
        REQUIRE(st == L4MM_OK);
    if (cls == L4MM_KP_DEFERRABLE)
        REQUIRE(f->oom_calls == calls0 && (st == L4MM_OK) == (n0 > f->reserve));
    if (st != L4MM_OK) {
        REQUIRE(st == L4MM_ENOMEM && pg == NULL);
        return;
    }
    if (cls != L4MM_KP_CRITICAL)
        REQUIRE(pages(&f->p) >= f->reserve);
    size_t k = index_of(f, pg);
    REQUIRE(f->own[k] == O_POOL);
    f->own[k] = O_KERNEL;
    memset(pg, b, f->ps);
}

static void op_free(struct fz *f, uint8_t b)
{
    for (size_t j = 0; j < NP; j++) {
        size_t k = (b + j) % NP;
        if (f->own[k] != O_KERNEL)
            continue;
        REQUIRE(((b & 0x40) ? l4mm_kpool_free_fast(&f->p, page(f, k))
                            : l4mm_kpool_free(&f->p, page(f, k))) == L4MM_OK);
        f->own[k] = O_POOL;
        /* immediately again: detectably a double free */
        REQUIRE(l4mm_kpool_free_fast(&f->p, page(f, k)) == L4MM_ENOENT);
        REQUIRE(l4mm_kpool_free(&f->p, page(f, k)) == L4MM_ENOENT);
        return;
    }
}

static void op_misuse(struct fz *f, uint8_t b)
{
    size_t n0 = pages(&f->p);
    unsigned char *pg = page(f, b % NP);
    REQUIRE(l4mm_kpool_free(&f->p, pg + 8 + (b & 0x30)) == L4MM_EINVAL);
    REQUIRE(l4mm_kpool_give(&f->p, pg + 16) == L4MM_EINVAL);
    REQUIRE(l4mm_kpool_alloc(&f->p, (enum l4mm_kpool_class)(3 + b), (void **)&pg) == L4MM_EINVAL);
    REQUIRE(pages(&f->p) == n0);
    /* kcache_free of anything not handed out: refused, never corrupting */
    unsigned char *q = page(f, (b >> 2) % NP);
    if (f->own[(b >> 2) % NP] != O_PAGER || (b & 1)) {
        l4mm_status st = (b & 2) ? l4mm_kcache_free_fast(&f->c[b & 1], q + (b & 0xf8))
                                 : l4mm_kcache_free(&f->c[b & 1], q + (b & 0xf8));
        if (st == L4MM_OK) {
            /* it was a live object of that cache: drop it from the model */
            for (size_t j = 0; j < f->nobjs; j++)
                if (f->objs[j] == q + (b & 0xf8)) {
                    f->objs[j] = f->objs[--f->nobjs];
                    return;
                }
            abort(); /* freed something nobody had */
        }
    }
}

static void op_cache(struct fz *f, uint8_t b)
{
    if ((b & 1) && f->nobjs < MAXOBJ) {
        void *o;
        struct l4mm_kcache *c = &f->c[(b >> 1) & 1];
        l4mm_status st = (b & 8) ? l4mm_kcache_alloc_fast(c, &o) : l4mm_kcache_alloc(c, &o);
        if (st != L4MM_OK) {
            REQUIRE(st == L4MM_ENOMEM);
            return;
        }
        for (size_t j = 0; j < f->nobjs; j++)
            REQUIRE(f->objs[j] != o);
        size_t k = index_of(f, (void *)((uintptr_t)o & ~(uintptr_t)(f->ps - 1)));
        REQUIRE(f->own[k] == O_POOL);
        f->objs[f->nobjs++] = o;
        return;
    }
    if (f->nobjs == 0)
        return;
    size_t j = b % f->nobjs;
    void *o = f->objs[j];
    l4mm_status s0 = (b & 8) ? l4mm_kcache_free_fast(&f->c[0], o) : l4mm_kcache_free(&f->c[0], o);
    if (s0 != L4MM_OK)
        REQUIRE(((b & 8) ? l4mm_kcache_free_fast(&f->c[1], o) : l4mm_kcache_free(&f->c[1], o)) ==
                L4MM_OK);
    f->objs[j] = f->objs[--f->nobjs];
    l4mm_status again =
        (b & 4) ? l4mm_kcache_free_fast(&f->c[b & 1], o) : l4mm_kcache_free(&f->c[b & 1], o);
    REQUIRE(again == L4MM_ENOENT || again == L4MM_EINVAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz *f = &F;
    memset(f, 0, sizeof *f);
    f->d = data;
    f->n = size;
    f->mem = g_mem;
    /* Fresh pages each run: a stale slab header left by an earlier run (same cache address)
     * is indistinguishable from a live slab - see docs/kpool.md. */
    memset(g_mem, 0, sizeof g_mem);
    f->ps = (size_t)64 << (byte(f) % 5); /* 64 .. 1024 */
    size_t r = byte(f) % 8, lo = r + byte(f) % 8, hi = lo + byte(f) % 16;
    f->reserve = r;
    f->use_chain = byte(f) & 1;
    const struct l4mm_kpool_config cfg = { f->ps, r, lo, hi };
    const struct l4mm_kpool_ops ops = { h_want, h_excess, h_oom, f };
    REQUIRE(l4mm_kpool_init(&f->p, &cfg, &ops) == L4MM_OK);
    const struct l4mm_kpool_config fcfg = { f->ps, 1, 2, 8 };
    REQUIRE(l4mm_kpool_init(&f->fb, &fcfg, NULL) == L4MM_OK);
    struct l4mm_oom_chain_config cc;
    memset(&cc, 0, sizeof cc);
    cc.pool = &f->p;
    cc.nsteps = 3;
    cc.steps[0].kind = L4MM_OOM_STEP_FALLBACK;
    cc.steps[1].kind = L4MM_OOM_STEP_RECLAIM;
    cc.steps[2].kind = L4MM_OOM_STEP_KILL;
    cc.steps[2].classes = 1u << L4MM_KP_CRITICAL;
    cc.fallback = &f->fb;
    cc.fallback_class = (enum l4mm_kpool_class)(byte(f) % 3);
    cc.fallback_batch = 1 + byte(f) % 4;
    cc.reclaim = reclaim_cb;
    cc.reclaim_ctx = f;
    cc.kill = kill_cb;
    cc.kill_ctx = f;
    REQUIRE(l4mm_oom_chain_init(&f->ch, &cc) == L4MM_OK);
    size_t osz = 1 + byte(f) * 4u;
    if (l4mm_kcache_init(&f->c[0], &f->p, osz, L4MM_KP_NORMAL) != L4MM_OK)
        REQUIRE(l4mm_kcache_init(&f->c[0], &f->p, 8, L4MM_KP_NORMAL) == L4MM_OK);
    REQUIRE(l4mm_kcache_init(&f->c[1], &f->p, 16, L4MM_KP_CRITICAL) == L4MM_OK);
    for (size_t k = 0; k < 4; k++) {
        f->own[NP - 1 - k] = O_POOL;
        REQUIRE(l4mm_kpool_give(&f->fb, page(f, NP - 1 - k)) == L4MM_OK);
    }
    check_all(f);

    while (f->i < f->n) {
        uint8_t op = byte(f), b = byte(f);
        f->oom_mode = (uint8_t)(op >> 4);
        f->want_mode = (uint8_t)(op >> 6);
        switch (op % 12) {
        case 0:
        case 1:
        case 2: op_alloc(f, b); break;
        case 3:
        case 4: op_free(f, b); break;
        case 5: give_one(f, (b & 1) ? &f->fb : &f->p); break;
        case 6: REQUIRE(l4mm_kpool_refill_done(&f->p) == L4MM_OK); break;
        case 7: REQUIRE(l4mm_kpool_refill_failed(&f->p) == L4MM_OK); break;
        case 8: {
            struct l4mm_kpool *p = (b & 1) ? &f->fb : &f->p;
            struct l4mm_kpool_stats s;
            l4mm_kpool_stats(p, &s);
            void *pg;
            l4mm_status st = l4mm_kpool_reclaim(p, &pg);
            REQUIRE((st == L4MM_OK) == (s.pages > s.low));
            if (st == L4MM_OK) {
                size_t k = index_of(f, pg);
                REQUIRE(f->own[k] == O_POOL);
                f->own[k] = O_PAGER;
            }
            break;
        }
        case 9:
        case 10: op_cache(f, b); break;
        default: op_misuse(f, b); break;
        }
        check_all(f);
    }
    return 0;
}
