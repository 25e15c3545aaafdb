/*
 * kcache.c - fixed-size object cache (slab) over a kpool.
 *
 * One page = one slab:
 *
 *   page ─▶ ┌──────────────────────────────┐
 *           │ tag = key ^ page address      │  key derives from the cache's address
 *           │ next, prev (list links)       │
 *           │ free_idx, bump, inuse         │
 *           │ bits[]: 1 = slot handed out   │  cleared when the page becomes a slab
 *           ├──────────────────────────────┤  hdr (multiple of 8)
 *           │ slot 0 │ slot 1 │ ... │ cap-1 │  stride = obj_size rounded up to 8
 *           └──────────────────────────────┘
 *
 * Free slots are linked by index through their first 4 bytes (free_idx -> ...), and slots
 * never used yet are handed out by bumping `bump` (so a new slab needs no free-list build,
 * only its bitmap cleared: cap / word-bits words, e.g. 3 words for 24-byte objects in 4 KiB).
 * kcache_free finds the slab by masking the pointer, checks tag, slot alignment (exact
 * division by multiplying with ceil(2^32 / stride)) and the bitmap: all O(1).
 *
 * Lists: `partial` (0 < inuse < cap; allocations come from its head), `full` (inuse == cap),
 * and `empty` (at most one slab with inuse == 0). A slab that becomes empty while another
 * empty one is kept goes back to the pool.
 */
#include "kpool/kpool_internal.h"

#define KC_NIL   0xffffffffu
#define KC_WBITS (sizeof(size_t) * 8u)
#define KC_KEY   ((uintptr_t)0x6b63616368653a29u)

struct kc_slab {
    uintptr_t tag;
    struct kc_slab *next;
    struct kc_slab *prev;
    uint32_t free_idx; /* first free slot below bump, or KC_NIL */
    uint32_t bump;     /* slots [bump, cap) were never handed out */
    uint32_t inuse;
    uint32_t pad;
    size_t bits[]; /* bit i set: slot i is handed out; bits at and above cap stay 0 */
};

L4MM_STATIC_ASSERT(sizeof(struct kc_slab) % sizeof(size_t) == 0, "bitmap words aligned");

static size_t kc_hdr_for(size_t cap)
{
    size_t words = (cap + KC_WBITS - 1) / KC_WBITS;
    size_t h = sizeof(struct kc_slab) + words * sizeof(size_t);
    return (h + 7u) & ~(size_t)7u;
}

/* ceil(2^32 / stride) with 32-bit division only (no __udivdi3 on 32-bit targets). */
static uint64_t kc_recip(size_t stride)
{
    uint32_t d = (uint32_t)stride;
    uint32_t q = 0xffffffffu / d, r = 0xffffffffu % d + 1u; /* 2^32 = q * d + r */
    if (r == d) {
        q++;
        r = 0;
    }
    return (uint64_t)q + (r != 0 ? 1u : 0u);
}

static struct kc_slab *kc_slab_of(uintptr_t page)
{
    return (struct kc_slab *)(void *)page;
}

static uintptr_t kc_tag(const struct l4mm_kcache *c, const struct kc_slab *s)
{
    return c->key ^ (uintptr_t)s;
}

static char *kc_slot(const struct l4mm_kcache *c, struct kc_slab *s, size_t idx)
{
    return (char *)s + c->hdr + idx * c->stride;
}

static void kc_link(struct kc_slab **head, struct kc_slab *s)
{
    s->prev = NULL;
    s->next = *head;
    if (*head != NULL)
        (*head)->prev = s;
    *head = s;
}

static void kc_unlink(struct kc_slab **head, struct kc_slab *s)
{
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        *head = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

l4mm_status l4mm_kcache_init(struct l4mm_kcache *c, struct l4mm_kpool *p, size_t obj_size,
                             enum l4mm_kpool_class cls)
{
    if (c == NULL || p == NULL || obj_size == 0 || (unsigned)cls > (unsigned)L4MM_KP_DEFERRABLE)
        return L4MM_EINVAL;
    size_t ps = p->page_size;
    if (ps < 64 || (ps & (ps - 1)) != 0 || ps > ((size_t)1 << 30) * 2u)
        return L4MM_EINVAL;
    if (obj_size > ps)
        return L4MM_EINVAL;
    size_t stride = (obj_size + 7u) & ~(size_t)7u;
    if (stride < obj_size)
        return L4MM_EINVAL;
    if (stride < sizeof(uint32_t))
        stride = sizeof(uint32_t);
    size_t base = kc_hdr_for(0);
    if (base + stride > ps)
        return L4MM_EINVAL;
    /* Largest cap whose header and slots fit; each step down frees >= 8 bytes, so this loop
     * runs at most a few times. */
    size_t cap = (ps - base) / stride;
    while (cap > 0 && kc_hdr_for(cap) + cap * stride > ps)
        cap--;
    if (cap == 0)
        return L4MM_EINVAL;

    c->partial = c->full = c->empty = NULL;
    c->pool = p;
    c->hdr = kc_hdr_for(cap);
    c->stride = stride;
    c->cap = cap;
    c->span = cap * stride;
    c->recip = kc_recip(stride);
    c->pmask = (uintptr_t)(ps - 1);
    c->key = KC_KEY ^ (uintptr_t)c;
    c->obj_size = obj_size;
    c->cls = cls;
    c->nslabs = c->live = c->pages_taken = c->pages_returned = 0;
    return L4MM_OK;
}

/* Gives a slab's page back to the pool (allowed inside the pool's hooks). */
static void kc_release(struct l4mm_kcache *c, struct kc_slab *s)
{
    s->tag = 0; /* stale pointers into this page are foreign from now on */
    c->nslabs--;
    c->pages_returned++;
    l4mm_kpool_internal_put(c->pool, s, true);
}

/* Hands out one slot of slab `s`, which is on the partial list. */
static inline void kc_take(struct l4mm_kcache *c, struct kc_slab *s, size_t idx, void **obj)
{
    char *o;
    if (L4MM_LIKELY(idx != KC_NIL)) {
        o = kc_slot(c, s, idx);
        s->free_idx = *(uint32_t *)(void *)o;
    } else {
        idx = s->bump++;
        o = kc_slot(c, s, idx);
    }
    s->bits[idx / KC_WBITS] |= (size_t)1 << (idx % KC_WBITS);
    c->live++;
    if (L4MM_UNLIKELY(++s->inuse == c->cap)) {
        kc_unlink((struct kc_slab **)&c->partial, s);
        kc_link((struct kc_slab **)&c->full, s);
    }
    *obj = o;
}

/* No partial slab: reuse the kept empty slab or take a page, then allocate from it. */
static KP_NOINLINE l4mm_status kc_alloc_slow(struct l4mm_kcache *c, void **obj)
{
    struct kc_slab *s = c->empty;
    if (s != NULL) {
        c->empty = NULL;
    } else {
        void *page;
        l4mm_status st = l4mm_kpool_alloc(c->pool, c->cls, &page);
        if (st != L4MM_OK)
            return st;
        s = kc_slab_of((uintptr_t)page);
        s->tag = kc_tag(c, s);
        s->free_idx = KC_NIL;
        s->bump = 0;
        s->inuse = 0;
        s->pad = 0;
        for (size_t i = 0; i < (c->cap + KC_WBITS - 1) / KC_WBITS; i++)
            s->bits[i] = 0;
        c->nslabs++;
        c->pages_taken++;
    }
    kc_link((struct kc_slab **)&c->partial, s);
    kc_take(c, s, s->free_idx, obj);
    return L4MM_OK;
}

l4mm_status l4mm_kcache_alloc(struct l4mm_kcache *c, void **obj)
{
    if (L4MM_UNLIKELY(c == NULL || obj == NULL))
        return L4MM_EINVAL;
    struct kc_slab *s = c->partial;
    if (L4MM_UNLIKELY(s == NULL))
        return kc_alloc_slow(c, obj);
    size_t idx = s->free_idx;
#ifdef L4MM_HARDEN
    /* A use after free may have overwritten the link: refuse rather than follow it. */
    if (idx != KC_NIL && (idx >= s->bump || (s->bits[idx / KC_WBITS] >> (idx % KC_WBITS)) & 1u))
        return L4MM_ECORRUPT;
#endif
    kc_take(c, s, idx, obj);
    return L4MM_OK;
}

l4mm_status l4mm_kcache_free(struct l4mm_kcache *c, void *obj)
{
    if (L4MM_UNLIKELY(c == NULL || obj == NULL))
        return L4MM_EINVAL;
    uintptr_t a = (uintptr_t)obj, in = a & c->pmask, base = a - in;
    size_t off = (size_t)in - c->hdr; /* wraps for a pointer into the header */
    struct kc_slab *s = kc_slab_of(base);
    if (L4MM_UNLIKELY(off >= c->span || s->tag != kc_tag(c, s)))
        return L4MM_EINVAL;
    size_t idx = (size_t)(((uint64_t)off * c->recip) >> 32);
    if (L4MM_UNLIKELY(idx * c->stride != off))
        return L4MM_EINVAL;
    size_t bit = (size_t)1 << (idx % KC_WBITS);
    size_t *w = &s->bits[idx / KC_WBITS];
    if (L4MM_UNLIKELY((*w & bit) == 0)) /* free, or never handed out (bits clear) */
        return L4MM_ENOENT;
    *w &= ~bit;
    *(uint32_t *)obj = s->free_idx;
    s->free_idx = (uint32_t)idx;
    c->live--;
    size_t was = s->inuse--;
    /* 2 <= was < cap: the slab stays partial (one compare; cap 1 always takes the slow way) */
    if (L4MM_LIKELY(was - 2u < c->cap - 2u))
        return L4MM_OK;
    /* List transitions: full -> partial, partial -> empty (or back to the pool). */
    if (was == c->cap)
        kc_unlink((struct kc_slab **)&c->full, s);
    else
        kc_unlink((struct kc_slab **)&c->partial, s);
    if (was != 1) {
        kc_link((struct kc_slab **)&c->partial, s);
    } else if (c->empty == NULL) {
        c->empty = s;
    } else {
        kc_release(c, s);
    }
    return L4MM_OK;
}

l4mm_status l4mm_kcache_shrink(struct l4mm_kcache *c)
{
    if (c == NULL)
        return L4MM_EINVAL;
    if (c->empty != NULL) {
        struct kc_slab *s = c->empty;
        c->empty = NULL;
        kc_release(c, s);
    }
    return L4MM_OK;
}

void l4mm_kcache_stats(const struct l4mm_kcache *c, struct l4mm_kcache_stats *out)
{
    if (c == NULL || out == NULL)
        return;
    out->obj_size = c->obj_size;
    out->stride = c->stride;
    out->objs_per_page = c->cap;
    out->live = c->live;
    out->pages = c->nslabs;
    out->empty_pages = c->empty != NULL ? 1u : 0u;
    out->pages_taken = c->pages_taken;
    out->pages_returned = c->pages_returned;
}

static size_t kc_popcount(size_t w)
{
    size_t k = 0;
    while (w != 0) {
        w &= w - 1;
        k++;
    }
    return k;
}

/* One slab: tag, counters, bitmap and free list agree. `want` says which list it is on:
 * 0 empty, 1 partial, 2 full. */
static bool kc_slab_ok(const struct l4mm_kcache *c, struct kc_slab *s, int want)
{
    if (s == NULL || ((uintptr_t)s & c->pmask) != 0 || s->tag != kc_tag(c, s))
        return false;
    if (s->bump > c->cap || s->inuse > s->bump)
        return false;
    int kind = s->inuse == 0 ? 0 : (s->inuse == c->cap ? 2 : 1);
    if (kind != want)
        return false;
    /* Bitmap: exactly inuse bits set, none at or above bump (free() relies on that). */
    size_t set = 0, bump = s->bump;
    for (size_t i = 0; i < (c->cap + KC_WBITS - 1) / KC_WBITS; i++) {
        size_t w = s->bits[i], lo = i * KC_WBITS;
        if (bump <= lo) {
            if (w != 0)
                return false;
            continue;
        }
        if (bump - lo < KC_WBITS && (w >> (bump - lo)) != 0)
            return false;
        set += kc_popcount(w);
    }
    if (set != s->inuse)
        return false;
    /* Free list: exactly bump - inuse distinct clear slots (distinct because a cycle would
     * exceed the count). */
    size_t nfree = 0;
    for (uint32_t idx = s->free_idx; idx != KC_NIL; nfree++) {
        if (nfree >= bump - s->inuse || idx >= bump)
            return false;
        if ((s->bits[idx / KC_WBITS] >> (idx % KC_WBITS)) & 1u)
            return false;
        idx = *(const uint32_t *)(const void *)kc_slot(c, s, idx);
    }
    return nfree == bump - s->inuse;
}

l4mm_status l4mm_kcache_check(const struct l4mm_kcache *c)
{
    if (c == NULL)
        return L4MM_EINVAL;
    if (c->pool == NULL || c->key != (KC_KEY ^ (uintptr_t)c) || c->stride < 4 ||
        c->stride % 8u != 0 || c->cap == 0 || c->span != c->cap * c->stride ||
        c->pmask != (uintptr_t)(c->pool->page_size - 1) || c->hdr != kc_hdr_for(c->cap) ||
        c->hdr + c->span > c->pool->page_size || c->recip != kc_recip(c->stride))
        return L4MM_ECORRUPT;
    size_t slabs = 0, live = 0;
    const struct kc_slab *prev;
    for (int list = 1; list <= 2; list++) {
        struct kc_slab *s = list == 1 ? c->partial : c->full;
        prev = NULL;
        for (; s != NULL; s = s->next) {
            if (slabs >= c->nslabs || s->prev != prev || !kc_slab_ok(c, s, list))
                return L4MM_ECORRUPT;
            slabs++;
            live += s->inuse;
            prev = s;
        }
    }
    if (c->empty != NULL) {
        struct kc_slab *e = c->empty;
        if (!kc_slab_ok(c, e, 0) || e->next != NULL || e->prev != NULL)
            return L4MM_ECORRUPT;
        slabs++;
    }
    if (slabs != c->nslabs || live != c->live || c->pages_taken - c->pages_returned != c->nslabs)
        return L4MM_ECORRUPT;
    return L4MM_OK;
}
