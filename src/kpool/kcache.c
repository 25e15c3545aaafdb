/*
 * kcache.c - fixed-size object cache (slab) over a kpool.
 *
 * One page = one slab:
 *
 *   page ─▶ ┌──────────────────────────────┐
 *           │ tag = key ^ page address      │  key derives from the cache's address
 *           │ next, prev (list links)       │
 *           │ used2 (in use - 2), free      │
 *           │ nx[cap]: uint16 per slot      │  next free slot / 0xffff end / 0xfffe in use
 *           ├──────────────────────────────┤  hdr (multiple of 8)
 *           │ slot 0 │ slot 1 │ ... │ cap-1 │  stride = obj_size rounded up to 8
 *           └──────────────────────────────┘
 *
 * Free slots form a LIFO list of indices through nx[] in the header (free -> nx[free] -> ...);
 * a handed-out slot's entry is KC_USED, which is what makes double frees exact. A new slab
 * gets its whole chain written once (cap stores).
 *
 * Fast paths. alloc: cur->free != KC_NIL, pop, mark used, bump counters. The cache's `cur`
 * is never NULL: without a slab it points at the stand-in `none`, whose free list is empty,
 * so one test sends both "no slab" and "slab exhausted" to the slow path.
 * free: x = (obj & pmask) - hdr; q = rotr(x * inv, shift) is x / stride when x is a multiple
 * of stride and larger than any slot index otherwise (exact-division test with the modular
 * inverse of the stride's odd part), so `q < cap` validates NULL, header pointers,
 * misaligned pointers and pointers past the last slot in one compare without touching
 * memory; then the page's tag (foreign pages) and nx[q] == KC_USED (double free, never handed
 * out). Only "the slab was full" and "the slab became empty" leave the fast path.
 *
 * Lists: `cur` (any fill level), `partial` (0 < inuse < cap), `full` (inuse == cap), and
 * `empty` (one slab with inuse == 0, only while cur is not empty as well): at most one empty
 * slab is ever held.
 */
#include "kpool/kpool_internal.h"

#define KC_NIL   L4MM_KCACHE_SLOT_END  /* end of a free list */
#define KC_USED  L4MM_KCACHE_SLOT_USED /* slot handed out */
#define KC_MAXC  0xfffdu               /* most slots per page */
#define KC_PBITS (sizeof(uintptr_t) * 8u)
#define KC_KEY   ((uintptr_t)0x6b63616368653a29u)

typedef struct l4mm_kcache_slab kc_slab;

L4MM_STATIC_ASSERT(sizeof(kc_slab) % sizeof(uint16_t) == 0, "link array aligned");

static size_t kc_hdr_for(size_t cap)
{
    size_t h = sizeof(kc_slab) + cap * sizeof(uint16_t);
    return (h + 7u) & ~(size_t)7u;
}

/* The per-slot link array following the header. */
static inline uint16_t *kc_nx(kc_slab *s)
{
    return (uint16_t *)(void *)(s + 1);
}

static inline const uint16_t *kc_cnx(const kc_slab *s)
{
    return (const uint16_t *)(const void *)(s + 1);
}

static unsigned kc_ctz(size_t v)
{
    unsigned k = 0;
    while ((v & 1u) == 0) {
        v >>= 1;
        k++;
    }
    return k;
}

/* Inverse of odd d modulo 2^KC_PBITS (Newton: each step doubles the correct bits). */
static uintptr_t kc_inverse(uintptr_t d)
{
    uintptr_t x = d; /* correct to 3 bits: d * d == 1 mod 8 */
    for (int i = 0; i < 5; i++)
        x *= (uintptr_t)2u - d * x;
    return x;
}

/* Slot index of page offset `in`, or a value >= cap when `in` is not the start of a slot. */
static inline size_t kc_index(const struct l4mm_kcache *c, uintptr_t in)
{
    uintptr_t y = (in - (uintptr_t)c->hdr) * c->inv;
    unsigned k = c->shift;
    return (size_t)((y >> k) | (y << ((KC_PBITS - k) & (KC_PBITS - 1u))));
}

static uintptr_t kc_tag(const struct l4mm_kcache *c, const kc_slab *s)
{
    return c->key ^ (uintptr_t)s;
}

/* Objects of `s` in use (the header keeps that count minus 2, so free's fast path is one
 * compare: used2 < cap2 iff 2 <= in use < cap). */
static inline uint32_t kc_inuse(const kc_slab *s)
{
    return s->used2 + 2u;
}

#define KC_USED2_EMPTY ((uint32_t)0xfffffffeu) /* used2 of a slab with no object in use */

static bool kc_is_none(const struct l4mm_kcache *c, const kc_slab *s)
{
    return s == &c->none;
}

/* cur is a real slab with no object in use (it is then the one kept empty slab). */
static bool kc_cur_empty(const struct l4mm_kcache *c)
{
    return !kc_is_none(c, c->cur) && kc_inuse(c->cur) == 0;
}

static void kc_link(kc_slab **head, kc_slab *s)
{
    s->prev = NULL;
    s->next = *head;
    if (*head != NULL)
        (*head)->prev = s;
    *head = s;
}

static void kc_unlink(kc_slab **head, kc_slab *s)
{
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        *head = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

static void kc_none_init(struct l4mm_kcache *c)
{
    c->none.tag = 0;
    c->none.next = c->none.prev = NULL;
    c->none.used2 = KC_USED2_EMPTY;
    c->none.free = KC_NIL;
    c->none.pad = 0;
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
    if (kc_hdr_for(1) + stride > ps)
        return L4MM_EINVAL;
    /* Largest cap whose header and slots fit; the first guess is at most one too high. */
    size_t cap = (ps - sizeof(kc_slab)) / (stride + sizeof(uint16_t));
    if (cap > KC_MAXC)
        cap = KC_MAXC;
    while (cap > 1 && kc_hdr_for(cap) + cap * stride > ps)
        cap--;

    unsigned k = kc_ctz(stride);
    c->pmask = (uintptr_t)(ps - 1);
    c->hdr = kc_hdr_for(cap);
    c->inv = kc_inverse((uintptr_t)(stride >> k));
    c->shift = k;
    c->cap = cap;
    c->cap2 = (uint32_t)(cap - 2u);
    c->key = KC_KEY ^ (uintptr_t)c;
    c->stride = stride;
    c->partial = c->full = c->empty = NULL;
    c->pool = p;
    c->obj_size = obj_size;
    c->cls = cls;
    c->nslabs = c->pages_taken = c->pages_returned = 0;
    c->lo = UINTPTR_MAX;
    c->span = 0;
    kc_none_init(c);
    c->cur = &c->none;
    return L4MM_OK;
}

/* Gives a slab's page back to the pool (allowed inside the pool's hooks). */
static void kc_release(struct l4mm_kcache *c, kc_slab *s)
{
    s->tag = 0; /* stale pointers into this page are foreign from now on */
    c->nslabs--;
    c->pages_returned++;
    l4mm_kpool_internal_put(c->pool, s, true);
}

/* Turns a fresh page into an empty slab with every slot on its free list. */
static kc_slab *kc_slab_new(struct l4mm_kcache *c, void *page)
{
    kc_slab *s = page;
    uint16_t *nx = kc_nx(s);
    size_t cap = c->cap;
    for (size_t i = 0; i + 1 < cap; i++)
        nx[i] = (uint16_t)(i + 1);
    nx[cap - 1] = KC_NIL;
    s->tag = kc_tag(c, s);
    s->next = s->prev = NULL;
    s->used2 = KC_USED2_EMPTY;
    s->free = 0;
    s->pad = 0;
    c->nslabs++;
    c->pages_taken++;
    /* Widen the window of slab addresses that free() may read a header in. */
    uintptr_t a = (uintptr_t)page;
    if (c->lo == UINTPTR_MAX) {
        c->lo = a;
    } else {
        uintptr_t hi = c->lo + c->span;
        if (a < c->lo)
            c->lo = a;
        if (a > hi)
            hi = a;
        c->span = hi - c->lo;
    }
    return s;
}

/* Pops a free slot of `s` (free != KC_NIL). */
static inline void *kc_take(struct l4mm_kcache *c, kc_slab *s, size_t idx)
{
    uint16_t *nx = kc_nx(s);
    s->free = nx[idx];
    nx[idx] = KC_USED;
    s->used2++;
    return (char *)s + c->hdr + idx * c->stride;
}

/* cur has no free slot (or is the stand-in): switch to a partial slab, the kept empty slab
 * or a new page; on failure nothing changes. */
static KP_NOINLINE l4mm_status kc_alloc_slow(struct l4mm_kcache *c, void **obj)
{
    kc_slab *s = c->partial;
    if (s != NULL) {
        kc_unlink(&c->partial, s);
    } else if (c->empty != NULL) {
        s = c->empty;
        c->empty = NULL;
    } else {
        void *page;
        l4mm_status st = l4mm_kpool_alloc(c->pool, c->cls, &page);
        if (st != L4MM_OK)
            return st;
        s = kc_slab_new(c, page);
    }
    if (!kc_is_none(c, c->cur))
        kc_link(&c->full, c->cur);
    c->cur = s;
    *obj = kc_take(c, s, s->free);
    return L4MM_OK;
}

l4mm_status l4mm_kcache_alloc(struct l4mm_kcache *c, void **obj)
{
    if (L4MM_UNLIKELY(c == NULL || obj == NULL))
        return L4MM_EINVAL;
    kc_slab *s = c->cur;
    size_t idx = s->free;
    if (L4MM_UNLIKELY(idx == KC_NIL))
        return kc_alloc_slow(c, obj);
#ifdef L4MM_HARDEN
    /* A wild write may have damaged the link array: refuse rather than follow it. */
    if (idx >= c->cap)
        return L4MM_ECORRUPT;
    size_t nxt = kc_nx(s)[idx];
    if (nxt != KC_NIL && nxt >= c->cap)
        return L4MM_ECORRUPT;
#endif
    *obj = kc_take(c, s, idx);
    return L4MM_OK;
}

/* Completes a free whose slot is already linked: the slab `s` was full before this free
 * or becomes empty: count the object and move the slab. Returns L4MM_OK (so the caller can
 * tail-call it). */
static KP_NOINLINE l4mm_status kc_free_moved(struct l4mm_kcache *c, kc_slab *s)
{
    s->used2--;
    uint32_t inuse = kc_inuse(s);
    bool was_full = inuse + 1u == c->cap;
    if (s == c->cur) {
        if (inuse != 0)
            return L4MM_OK; /* was full; cur needs no list */
        if (c->partial == NULL) {
            /* cur is now the one empty slab */
            if (c->empty != NULL) {
                kc_slab *e = c->empty;
                c->empty = NULL;
                kc_release(c, e);
            }
            return L4MM_OK;
        }
        /* allocate from a partial slab; this one becomes the kept empty slab */
        c->cur = c->partial;
        kc_unlink(&c->partial, c->cur);
    } else {
        kc_unlink(was_full ? &c->full : &c->partial, s);
        if (inuse != 0) {
            kc_link(&c->partial, s);
            return L4MM_OK;
        }
    }
    /* s is empty and not cur */
    if (c->empty == NULL && !kc_cur_empty(c))
        c->empty = s;
    else
        kc_release(c, s);
    return L4MM_OK;
}

l4mm_status l4mm_kcache_free(struct l4mm_kcache *c, void *obj)
{
    if (L4MM_UNLIKELY(c == NULL))
        return L4MM_EINVAL;
    uintptr_t a = (uintptr_t)obj, in = a & c->pmask;
    size_t idx = kc_index(c, in); /* NULL, header, misaligned, past the end: >= cap */
    if (L4MM_UNLIKELY(idx >= c->cap))
        return L4MM_EINVAL;
    kc_slab *s = (kc_slab *)(void *)(a - in);
    /* Only read a header inside the window of pages this cache ever used as slabs: a foreign
     * pointer (a heap object, another cache's memory) is refused without touching its page. */
    if (L4MM_UNLIKELY((uintptr_t)s - c->lo > c->span || s->tag != kc_tag(c, s)))
        return L4MM_EINVAL; /* not a slab of this cache */
    uint16_t *nx = kc_nx(s);
    if (L4MM_UNLIKELY(nx[idx] != KC_USED))
        return L4MM_ENOENT; /* free already, or never handed out */
    nx[idx] = s->free;
    s->free = (uint16_t)idx;
    /* 2 <= in use < cap before this free: not full, stays partial (one compare) */
    if (L4MM_UNLIKELY(s->used2 >= c->cap2))
        return kc_free_moved(c, s);
    s->used2--;
    return L4MM_OK;
}

l4mm_status l4mm_kcache_shrink(struct l4mm_kcache *c)
{
    if (c == NULL)
        return L4MM_EINVAL;
    if (c->empty != NULL) {
        kc_slab *s = c->empty;
        c->empty = NULL;
        kc_release(c, s);
    } else if (kc_cur_empty(c)) {
        kc_slab *s = c->cur;
        c->cur = c->partial != NULL ? c->partial : &c->none;
        if (c->partial != NULL)
            kc_unlink(&c->partial, c->cur);
        kc_release(c, s);
    }
    return L4MM_OK;
}

/* Objects handed out: the sum over the held slabs (the fast paths keep no total). The walk
 * is bounded by nslabs, so a damaged list cannot make it loop. */
static size_t kc_live(const struct l4mm_kcache *c)
{
    size_t live = kc_is_none(c, c->cur) ? 0 : kc_inuse(c->cur), steps = 0;
    for (int list = 0; list < 2; list++)
        for (const kc_slab *s = list == 0 ? c->partial : c->full; s != NULL && steps < c->nslabs;
             s = s->next, steps++)
            live += kc_inuse(s);
    return live;
}

void l4mm_kcache_stats(const struct l4mm_kcache *c, struct l4mm_kcache_stats *out)
{
    if (c == NULL || out == NULL)
        return;
    out->obj_size = c->obj_size;
    out->stride = c->stride;
    out->objs_per_page = c->cap;
    out->live = kc_live(c);
    out->pages = c->nslabs;
    out->empty_pages = (c->empty != NULL || kc_cur_empty(c)) ? 1u : 0u;
    out->pages_taken = c->pages_taken;
    out->pages_returned = c->pages_returned;
}

/* One slab: tag, fill level for its list, link array and free list agree. `want`: 0 empty,
 * 1 partial, 2 full, 3 any (cur). */
static bool kc_slab_ok(const struct l4mm_kcache *c, const kc_slab *s, int want)
{
    if (s == NULL || ((uintptr_t)s & c->pmask) != 0 || (uintptr_t)s - c->lo > c->span ||
        s->tag != kc_tag(c, s) || s->pad != 0)
        return false;
    size_t cap = c->cap, inuse = kc_inuse(s);
    if (inuse > cap)
        return false;
    int kind = inuse == 0 ? 0 : (inuse == cap ? 2 : 1);
    if (want != 3 && kind != want)
        return false;
    const uint16_t *nx = kc_cnx(s);
    size_t used = 0;
    for (size_t i = 0; i < cap; i++) {
        if (nx[i] == KC_USED)
            used++;
        else if (nx[i] != KC_NIL && nx[i] >= cap)
            return false;
    }
    if (used != inuse)
        return false;
    /* Free list: exactly cap - inuse slots, none in use (distinct: a cycle would exceed the
     * count; every free slot is then on it). */
    size_t nfree = 0;
    for (size_t idx = s->free; idx != KC_NIL; nfree++) {
        if (nfree >= cap - inuse || idx >= cap || nx[idx] == KC_USED)
            return false;
        idx = nx[idx];
    }
    return nfree == cap - inuse;
}

l4mm_status l4mm_kcache_check(const struct l4mm_kcache *c)
{
    if (c == NULL)
        return L4MM_EINVAL;
    const struct l4mm_kpool *p = c->pool;
    if (p == NULL || c->key != (KC_KEY ^ (uintptr_t)c) || c->stride < 8 || c->stride % 8u != 0 ||
        c->cap == 0 || c->cap > KC_MAXC || c->cap2 != (uint32_t)(c->cap - 2u) ||
        c->pmask != (uintptr_t)(p->page_size - 1) || c->hdr != kc_hdr_for(c->cap) ||
        c->hdr + c->cap * c->stride > p->page_size || c->shift != kc_ctz(c->stride) ||
        c->inv * (uintptr_t)(c->stride >> c->shift) != (uintptr_t)1u)
        return L4MM_ECORRUPT;
    const kc_slab *n = &c->none;
    if (n->tag != 0 || n->next != NULL || n->prev != NULL || n->used2 != KC_USED2_EMPTY ||
        n->free != KC_NIL || n->pad != 0)
        return L4MM_ECORRUPT;
    size_t slabs = 0, empties = 0;
    const kc_slab *cur = c->cur;
    if (!kc_is_none(c, cur)) {
        if (!kc_slab_ok(c, cur, 3) || cur->next != NULL || cur->prev != NULL)
            return L4MM_ECORRUPT;
        slabs++;
        empties += kc_inuse(cur) == 0;
    }
    for (int list = 1; list <= 2; list++) {
        const kc_slab *s = list == 1 ? c->partial : c->full;
        const kc_slab *prev = NULL;
        for (; s != NULL; s = s->next) {
            if (slabs >= c->nslabs || s == cur || s->prev != prev || !kc_slab_ok(c, s, list))
                return L4MM_ECORRUPT;
            slabs++;
            prev = s;
        }
    }
    if (c->empty != NULL) {
        const kc_slab *e = c->empty;
        if (e == cur || !kc_slab_ok(c, e, 0) || e->next != NULL || e->prev != NULL)
            return L4MM_ECORRUPT;
        slabs++;
        empties++;
    }
    if (empties > 1 || slabs != c->nslabs || c->pages_taken - c->pages_returned != c->nslabs)
        return L4MM_ECORRUPT;
    return L4MM_OK;
}
