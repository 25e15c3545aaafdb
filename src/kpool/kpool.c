/*
 * kpool.c - the kernel's reserve pool of pages.
 *
 * The free pages form a LIFO list linked through their first word. The fast paths are one
 * compare against a precomputed threshold each:
 *
 *   alloc: n > limit[cls]           limit = max({ 0, reserve, reserve }, lowest, low), SIZE_MAX
 *          inside a hook; then pop. Anything else takes kp_alloc_slow, which pops if the
 *          class allows and runs the tail: keeps `lowest`, counts crossings of low and sends
 *          the refill request.
 *   free:  n < free_mark            free_mark = high (0 inside a hook or after a pager
 *          failure), else the slow put: clears the failure, reports excess above high,
 *          refuses re-entry.
 *
 * Everything that changes flags, depth or watermarks recomputes the thresholds (kp_marks),
 * and l4mm_kpool_check() verifies they match.
 *
 * Hook re-entry: while a hook runs, depth > 0; give is the only operation that proceeds.
 */
#include "kpool/kpool_internal.h"

#define KP_SIZE_MAX ((size_t)-1)

static size_t kp_max(size_t a, size_t b)
{
    return a > b ? a : b;
}

/*
 * The thresholds the fast paths compare against, derived from the rest of the state.
 * An allocation of class cls may take the fast path iff n > limit[cls], which folds three
 * conditions into one compare: n exceeds the class limit (0 or reserve), the new n - 1 is
 * still >= max(lowest, low) (no statistics, crossing or refill work due), and no hook runs
 * (SIZE_MAX then).
 */
static void kp_marks_of(const struct l4mm_kpool *p, size_t limit[3], size_t *freem)
{
    if (p->depth != 0) {
        limit[0] = limit[1] = limit[2] = KP_SIZE_MAX;
        *freem = 0;
    } else {
        size_t slow = kp_max(p->st.lowest, p->low);
        limit[L4MM_KP_CRITICAL] = slow;
        limit[L4MM_KP_NORMAL] = kp_max(p->reserve, slow);
        limit[L4MM_KP_DEFERRABLE] = limit[L4MM_KP_NORMAL];
        *freem = (p->flags & KP_FAILED) ? 0 : p->high;
    }
}

static void kp_marks(struct l4mm_kpool *p)
{
    kp_marks_of(p, p->limit, &p->free_mark);
}

static void kp_enter(struct l4mm_kpool *p)
{
    p->depth++;
    kp_marks(p);
}

static void kp_leave(struct l4mm_kpool *p)
{
    p->depth--;
    kp_marks(p);
}

l4mm_status l4mm_kpool_init(struct l4mm_kpool *p, const struct l4mm_kpool_config *cfg,
                            const struct l4mm_kpool_ops *ops)
{
    if (p == NULL || cfg == NULL)
        return L4MM_EINVAL;
    size_t ps = cfg->page_size;
    if (ps < 64 || (ps & (ps - 1)) != 0)
        return L4MM_EINVAL;
    if (!(cfg->reserve <= cfg->low && cfg->low <= cfg->high))
        return L4MM_EINVAL;

    p->head = NULL;
    p->n = 0;
    p->mask = (uintptr_t)(ps - 1);
    p->page_size = ps;
    p->reserve = cfg->reserve;
    p->low = cfg->low;
    p->high = cfg->high;
    if (ops != NULL) {
        p->ops.want_pages = ops->want_pages;
        p->ops.excess_pages = ops->excess_pages;
        p->ops.oom = ops->oom;
        p->ops.ctx = ops->ctx;
    } else {
        p->ops.want_pages = NULL;
        p->ops.excess_pages = NULL;
        p->ops.oom = NULL;
        p->ops.ctx = NULL;
    }
    p->flags = 0;
    p->depth = 0;
    p->magic = kp_magic(p);
    p->out = 0;
    p->range_lo = (uintptr_t)-1;
    p->range_hi = 0;

    struct l4mm_kpool_stats *s = &p->st;
    s->pages = 0;
    s->page_size = ps;
    s->reserve = cfg->reserve;
    s->low = cfg->low;
    s->high = cfg->high;
    s->lowest = KP_SIZE_MAX;
    s->crossed_low = s->crossed_high = 0;
    s->refill_requests = s->refills_done = s->refills_failed = 0;
    s->excess_reports = s->oom_calls = 0;
    s->failures[0] = s->failures[1] = s->failures[2] = 0;
    s->gives = s->reclaimed = 0;
    s->refill_outstanding = s->refill_blocked = false;
    kp_marks(p);
    return L4MM_OK;
}

/* ---- adding pages ----------------------------------------------------------------------- */

void l4mm_kpool_internal_put(struct l4mm_kpool *p, void *page, bool was_allocated)
{
    void **w = page;
    w[0] = p->head;
#ifdef L4MM_HARDEN
    w[1] = (void *)kp_tag(p, page);
    if (was_allocated && p->out > 0)
        p->out--;
#else
    (void)was_allocated;
#endif
    p->head = page;
    size_t n = ++p->n;
    p->flags &= ~KP_FAILED;
    if (n - 1 == p->high) {
        p->st.crossed_high++;
        if (p->ops.excess_pages != NULL) {
            p->st.excess_reports++;
            kp_enter(p);
            p->ops.excess_pages(p->ops.ctx, n - p->high);
            kp_leave(p);
        }
    }
    kp_marks(p);
}

/* Validation common to free and give (after the EINVAL checks): is `page` detectably in the
 * pool already, or (free only, hardened) not one of ours? */
static l4mm_status kp_put_check(const struct l4mm_kpool *p, const void *page, bool is_free)
{
    if (page == p->head)
        return L4MM_ENOENT;
#ifdef L4MM_HARDEN
    void *const *w = page;
    if ((uintptr_t)w[1] == kp_tag(p, page))
        return L4MM_ENOENT;
    if (is_free) {
        uintptr_t a = (uintptr_t)page;
        if (p->out == 0 || a < p->range_lo || a > p->range_hi)
            return L4MM_ENOENT;
    }
#else
    (void)is_free;
#endif
    return L4MM_OK;
}

l4mm_status l4mm_kpool_give(struct l4mm_kpool *p, void *page)
{
    if (p == NULL || page == NULL || ((uintptr_t)page & p->mask) != 0)
        return L4MM_EINVAL;
    l4mm_status st = kp_put_check(p, page, false);
    if (st != L4MM_OK)
        return st;
#ifdef L4MM_HARDEN
    uintptr_t a = (uintptr_t)page;
    if (a < p->range_lo)
        p->range_lo = a;
    if (a > p->range_hi)
        p->range_hi = a;
#endif
    p->st.gives++;
    l4mm_kpool_internal_put(p, page, false);
    return L4MM_OK;
}

static KP_NOINLINE l4mm_status kp_free_slow(struct l4mm_kpool *p, void *page)
{
    if (p->depth != 0)
        return L4MM_EBUSY;
    l4mm_status st = kp_put_check(p, page, true);
    if (st != L4MM_OK)
        return st;
    l4mm_kpool_internal_put(p, page, true);
    return L4MM_OK;
}

l4mm_status l4mm_kpool_free(struct l4mm_kpool *p, void *page)
{
    if (L4MM_UNLIKELY(p == NULL || page == NULL || ((uintptr_t)page & p->mask) != 0))
        return L4MM_EINVAL;
#ifdef L4MM_HARDEN
    return kp_free_slow(p, page);
#else
    size_t n = p->n;
    if (L4MM_UNLIKELY(n >= p->free_mark || page == p->head))
        return kp_free_slow(p, page);
    *(void **)page = p->head;
    p->head = page;
    p->n = n + 1;
    return L4MM_OK;
#endif
}

/* ---- taking pages ----------------------------------------------------------------------- */

/* Pops the head page. With L4MM_HARDEN, refuses a head that lost its tag or links to a
 * misaligned page (nothing changes then). */
static l4mm_status kp_pop(struct l4mm_kpool *p, void **page)
{
    void **w = p->head;
#ifdef L4MM_HARDEN
    if (w == NULL || (uintptr_t)w[1] != kp_tag(p, w) || ((uintptr_t)w[0] & p->mask) != 0 ||
        (w[0] == NULL) != (p->n == 1))
        return L4MM_ECORRUPT;
    w[1] = NULL;
#endif
    p->head = w[0];
    p->n--;
    *page = w;
    return L4MM_OK;
}

/* End of every allocation call that got past validation: levels, crossings, refill request. */
static KP_NOINLINE void kp_alloc_tail(struct l4mm_kpool *p, bool took)
{
    size_t n = p->n;
    if (took) {
        if (n < p->st.lowest)
            p->st.lowest = n;
        if (n + 1 == p->low)
            p->st.crossed_low++;
    }
    if (n < p->low && (p->flags & (KP_OUTSTANDING | KP_FAILED)) == 0 && p->ops.want_pages != NULL) {
        p->flags |= KP_OUTSTANDING;
        p->st.refill_requests++;
        kp_enter(p);
        p->ops.want_pages(p->ops.ctx, p->high - n);
        kp_leave(p);
    }
    kp_marks(p);
}

static KP_NOINLINE l4mm_status kp_alloc_slow(struct l4mm_kpool *p, enum l4mm_kpool_class cls,
                                             void **page)
{
    if (page == NULL)
        return L4MM_EINVAL;
    if (p->depth != 0)
        return L4MM_EBUSY;
    size_t limit = cls == L4MM_KP_CRITICAL ? 0 : p->reserve;
    size_t attempt = 0;
    l4mm_status st;
    for (;;) {
        if (p->n > limit) {
            st = kp_pop(p, page);
            if (st != L4MM_OK)
                return st; /* hardened: damaged free list, nothing taken */
            break;
        }
        if (cls == L4MM_KP_DEFERRABLE || p->ops.oom == NULL || attempt == L4MM_KPOOL_OOM_RETRIES) {
            st = L4MM_ENOMEM;
            break;
        }
        p->st.oom_calls++;
        kp_enter(p);
        enum l4mm_oom_action act = p->ops.oom(p->ops.ctx, cls, attempt);
        kp_leave(p);
        attempt++;
        if (act != L4MM_OOM_RETRY) {
            st = L4MM_ENOMEM;
            break;
        }
    }
    if (st != L4MM_OK)
        p->st.failures[cls]++;
#ifdef L4MM_HARDEN
    else
        p->out++;
#endif
    kp_alloc_tail(p, st == L4MM_OK);
    return st;
}

l4mm_status l4mm_kpool_alloc(struct l4mm_kpool *p, enum l4mm_kpool_class cls, void **page)
{
    if (L4MM_UNLIKELY(p == NULL || (unsigned)cls > (unsigned)L4MM_KP_DEFERRABLE))
        return L4MM_EINVAL;
#ifdef L4MM_HARDEN
    if (page == NULL)
        return L4MM_EINVAL;
    return kp_alloc_slow(p, cls, page);
#else
    /* One compare: class limit, watermark/statistics work and hook state (kp_marks_of).
     * kp_alloc_slow checks `page` first, so EINVAL still precedes every state error. */
    size_t n = p->n;
    if (L4MM_UNLIKELY(n <= p->limit[cls]))
        return kp_alloc_slow(p, cls, page);
    if (L4MM_UNLIKELY(page == NULL))
        return L4MM_EINVAL;
    void **w = p->head;
    p->head = *w;
    *page = w;
    p->n = n - 1u;
    return L4MM_OK;
#endif
}

l4mm_status l4mm_kpool_reclaim(struct l4mm_kpool *p, void **page)
{
    if (p == NULL || page == NULL)
        return L4MM_EINVAL;
    if (p->depth != 0)
        return L4MM_EBUSY;
    if (p->n <= p->low)
        return L4MM_ENOMEM;
    l4mm_status st = kp_pop(p, page);
    if (st != L4MM_OK)
        return st;
    p->st.reclaimed++;
    if (p->n < p->st.lowest)
        p->st.lowest = p->n;
    kp_marks(p);
    return L4MM_OK;
}

/* ---- pager answers ---------------------------------------------------------------------- */

l4mm_status l4mm_kpool_refill_done(struct l4mm_kpool *p)
{
    if (p == NULL)
        return L4MM_EINVAL;
    if (p->depth != 0)
        return L4MM_EBUSY;
    if (p->flags & KP_OUTSTANDING) {
        p->flags &= ~KP_OUTSTANDING;
        p->st.refills_done++;
        kp_marks(p);
    }
    return L4MM_OK;
}

l4mm_status l4mm_kpool_refill_failed(struct l4mm_kpool *p)
{
    if (p == NULL)
        return L4MM_EINVAL;
    if (p->depth != 0)
        return L4MM_EBUSY;
    if (p->flags & KP_OUTSTANDING) {
        p->flags = (p->flags & ~KP_OUTSTANDING) | KP_FAILED;
        p->st.refills_failed++;
        kp_marks(p);
    }
    return L4MM_OK;
}

/* ---- reading ---------------------------------------------------------------------------- */

void l4mm_kpool_stats(const struct l4mm_kpool *p, struct l4mm_kpool_stats *out)
{
    if (p == NULL || out == NULL)
        return;
    const struct l4mm_kpool_stats *s = &p->st;
    out->pages = p->n;
    out->page_size = s->page_size;
    out->reserve = s->reserve;
    out->low = s->low;
    out->high = s->high;
    out->lowest = s->lowest;
    out->crossed_low = s->crossed_low;
    out->crossed_high = s->crossed_high;
    out->refill_requests = s->refill_requests;
    out->refills_done = s->refills_done;
    out->refills_failed = s->refills_failed;
    out->excess_reports = s->excess_reports;
    out->oom_calls = s->oom_calls;
    for (unsigned i = 0; i < 3; i++)
        out->failures[i] = s->failures[i];
    out->gives = s->gives;
    out->reclaimed = s->reclaimed;
    out->refill_outstanding = (p->flags & KP_OUTSTANDING) != 0;
    out->refill_blocked = (p->flags & KP_FAILED) != 0;
}

l4mm_status l4mm_kpool_check(const struct l4mm_kpool *p)
{
    if (p == NULL)
        return L4MM_EINVAL;
    size_t ps = p->page_size;
    if (!kp_live(p) || ps < 64 || (ps & (ps - 1)) != 0 || p->mask != (uintptr_t)(ps - 1))
        return L4MM_ECORRUPT;
    if (!(p->reserve <= p->low && p->low <= p->high) || (p->flags & ~KP_FLAGS_ALL) != 0 ||
        p->depth > KP_MAX_DEPTH)
        return L4MM_ECORRUPT;
    if ((p->flags & KP_OUTSTANDING) && p->ops.want_pages == NULL)
        return L4MM_ECORRUPT;
    if ((p->flags & (KP_OUTSTANDING | KP_FAILED)) == (KP_OUTSTANDING | KP_FAILED))
        return L4MM_ECORRUPT;
    if (p->st.page_size != ps || p->st.reserve != p->reserve || p->st.low != p->low ||
        p->st.high != p->high)
        return L4MM_ECORRUPT;
    if (p->st.lowest != KP_SIZE_MAX && p->st.lowest > p->n)
        return L4MM_ECORRUPT;
    size_t limit[3], freem;
    kp_marks_of(p, limit, &freem);
    if (limit[0] != p->limit[0] || limit[1] != p->limit[1] || limit[2] != p->limit[2] ||
        freem != p->free_mark)
        return L4MM_ECORRUPT;
    /* The free list: exactly n aligned pages, then NULL. A cycle or a wrong count shows as a
     * non-NULL link after n pages or a NULL link before. */
    void *const *w = p->head;
    for (size_t i = 0; i < p->n; i++) {
        if (w == NULL || ((uintptr_t)w & p->mask) != 0)
            return L4MM_ECORRUPT;
#ifdef L4MM_HARDEN
        if ((uintptr_t)w[1] != kp_tag(p, w))
            return L4MM_ECORRUPT;
        if ((uintptr_t)w < p->range_lo || (uintptr_t)w > p->range_hi)
            return L4MM_ECORRUPT;
#endif
        w = w[0];
    }
    if (w != NULL)
        return L4MM_ECORRUPT;
    return L4MM_OK;
}
