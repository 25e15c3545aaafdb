/**
 * @file kpool.h
 * @brief kpool: the kernel's own memory - a reserve pool of pages with watermarks, an
 *        asynchronous refill request to the pager, an OOM policy chain and an object cache.
 *
 * A pool holds `n` pages, linked through the pages themselves (the kernel has them mapped;
 * each free page's first word, and with L4MM_HARDEN its second word, belong to the pool).
 * Three watermarks `reserve <= low <= high` steer it:
 *  - ::L4MM_KP_NORMAL and ::L4MM_KP_DEFERRABLE allocations succeed only while `n > reserve`,
 *    ::L4MM_KP_CRITICAL ones while `n > 0`;
 *  - an allocation call that ends with `n < low` sends one refill request
 *    (`want_pages(high - n)`) unless one is outstanding or the pager reported failure since
 *    the last free or give;
 *  - a free or give that raises `n` above `high` calls `excess_pages(n - high)` once per
 *    crossing.
 * When NORMAL or CRITICAL cannot be served, the `oom` hook decides (see ::l4mm_oom_chain for a
 * ready-made policy); DEFERRABLE fails at once.
 *
 * Nothing here allocates, keeps global state, recurses or sleeps. One instance is
 * single-threaded: the caller serialises all calls on a pool and on the caches over it (one
 * lock is enough). The structures are complete types so callers can place them anywhere;
 * their fields are private and must not be touched except through these functions.
 *
 * **Hooks and re-entry.** A hook (`want_pages`, `excess_pages`, `oom`) may call
 * l4mm_kpool_give() on the same pool (and read it with l4mm_kpool_stats() /
 * l4mm_kpool_check()); every other call on that pool made from inside a hook is refused with
 * L4MM_EBUSY and changes nothing. l4mm_kcache_free() works from hooks (a released page enters
 * the pool like a give); l4mm_kcache_alloc() that needs a new page gets L4MM_EBUSY.
 * l4mm_kpool_init() must never be called on a pool that is inside a hook.
 *
 * **Hardening.** Built with `L4MM_HARDEN` defined (CMake option `L4MM_HARDEN`), the pool tags
 * every free page (second word = a value derived from the page and pool addresses) and
 * refuses:
 *  - a double free or a give of a page already in the pool (tag present: L4MM_ENOENT);
 *  - a free while no page allocated from this pool is outstanding (L4MM_ENOENT);
 *  - a free of a page outside the address range of all pages ever given (L4MM_ENOENT);
 *  - an allocation whose free-list head has lost its tag or links to a misaligned page
 *    (use after free by the caller: L4MM_ECORRUPT, nothing changes).
 * It does not detect a foreign page inside that range while some page is allocated, or a
 * caller who writes the exact tag value into an allocated page. Without `L4MM_HARDEN` only a
 * free or give of the page at the head of the free list (the most recent free) is detected;
 * other double frees and foreign pages are accepted and make l4mm_kpool_check() report
 * L4MM_ECORRUPT when they create a cycle or a count mismatch.
 */
#ifndef L4MM_KPOOL_H
#define L4MM_KPOOL_H

#include <l4mm/status.h>
#include <l4mm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief How many times one allocation calls the `oom` hook before it fails with
 *        L4MM_ENOMEM (attempts 0 .. L4MM_KPOOL_OOM_RETRIES - 1). Usable in constant
 *        expressions.
 */
#define L4MM_KPOOL_OOM_RETRIES 4u

/** @brief The class of an allocation: how far into the pool it may reach. */
enum l4mm_kpool_class {
    L4MM_KP_CRITICAL, /**< may use the reserve: succeeds while the pool holds a page */
    L4MM_KP_NORMAL,   /**< may not use the reserve; calls the `oom` hook when it cannot be served */
    L4MM_KP_DEFERRABLE /**< may not use the reserve; fails at once, never calls `oom` */
};

/** @brief What the `oom` hook tells the pool. */
enum l4mm_oom_action {
    L4MM_OOM_FAIL, /**< give up: the allocation fails with L4MM_ENOMEM */
    L4MM_OOM_RETRY /**< try again (the hook has given pages, or hopes another attempt helps) */
};

/** @brief Pool geometry and watermarks (copied by l4mm_kpool_init()). */
struct l4mm_kpool_config {
    size_t page_size; /**< bytes per page: a power of two >= 64; every page is aligned to it */
    size_t reserve;   /**< pages only ::L4MM_KP_CRITICAL may take */
    size_t low;       /**< below this (after an allocation) a refill request is sent */
    size_t high;      /**< refill target; above it `excess_pages` reports the surplus */
};

/** @brief The pool's hooks (copied by l4mm_kpool_init()); any of them may be NULL. */
struct l4mm_kpool_ops {
    /** @brief Ask the pager for `npages` pages, asynchronously. Called at the end of an
     *  allocation call; not called again until l4mm_kpool_refill_done() or
     *  l4mm_kpool_refill_failed(). May call l4mm_kpool_give() on the pool. NULL: no request
     *  is ever sent. */
    void (*want_pages)(void *ctx, size_t npages);
    /** @brief The pool holds `npages` more than `high`; the kernel may return pages (with
     *  l4mm_kpool_reclaim() later, outside the hook). Called from free or give, once per
     *  crossing of `high`. NULL: not reported. */
    void (*excess_pages)(void *ctx, size_t npages);
    /** @brief An allocation of class `cls` (CRITICAL or NORMAL) cannot be served; `attempt`
     *  counts 0, 1, ... within the call. May give pages and return ::L4MM_OOM_RETRY, or
     *  return ::L4MM_OOM_FAIL (any other value counts as FAIL). NULL means FAIL. */
    enum l4mm_oom_action (*oom)(void *ctx, enum l4mm_kpool_class cls, size_t attempt);
    /** @brief Passed unchanged to every hook. */
    void *ctx;
};

/** @brief Counters and levels of a pool, filled by l4mm_kpool_stats(). */
struct l4mm_kpool_stats {
    size_t pages;            /**< n: pages in the pool now */
    size_t page_size;        /**< bytes per page */
    size_t reserve;          /**< configured reserve */
    size_t low;              /**< configured low watermark */
    size_t high;             /**< configured high watermark */
    size_t lowest;           /**< smallest n left by any allocation or reclaim (SIZE_MAX: none) */
    size_t crossed_low;      /**< times an allocation took n from low to below low */
    size_t crossed_high;     /**< times a free or give took n from high to above high */
    size_t refill_requests;  /**< want_pages calls */
    size_t refills_done;     /**< l4mm_kpool_refill_done() calls that ended a request */
    size_t refills_failed;   /**< l4mm_kpool_refill_failed() calls that ended a request */
    size_t excess_reports;   /**< excess_pages calls */
    size_t oom_calls;        /**< oom hook calls */
    size_t failures[3];      /**< ENOMEM allocations, indexed by ::l4mm_kpool_class */
    size_t gives;            /**< pages received through l4mm_kpool_give() */
    size_t reclaimed;        /**< pages handed back through l4mm_kpool_reclaim() */
    bool refill_outstanding; /**< a want_pages request awaits its answer */
    bool refill_blocked;     /**< the pager reported failure; no request until a free/give */
};

/**
 * @brief A pool of pages. Complete type so callers can place it anywhere; all fields are
 *        private (their meaning may change between versions). The pool must not be moved or
 *        copied after l4mm_kpool_init().
 */
struct l4mm_kpool {
    void *head;       /**< private: first free page (its first word links the next) */
    size_t n;         /**< private: pages in the pool */
    size_t limit[3];  /**< private: per class, the fast path needs n > this (SIZE_MAX in a hook) */
    size_t free_mark; /**< private: a free/give with n at or above this takes the slow path */
    uintptr_t mask;   /**< private: page_size - 1 */
    size_t page_size; /**< private: bytes per page */
    size_t reserve;   /**< private: reserve watermark */
    size_t low;       /**< private: low watermark */
    size_t high;      /**< private: high watermark */
    struct l4mm_kpool_ops ops;  /**< private: the hooks */
    unsigned flags;             /**< private: refill outstanding / pager failed */
    unsigned depth;             /**< private: hook nesting depth (0 outside hooks) */
    uintptr_t magic;            /**< private: initialisation and tag key */
    size_t out;                 /**< private: pages allocated and not freed (hardened builds) */
    uintptr_t range_lo;         /**< private: lowest page address ever given (hardened builds) */
    uintptr_t range_hi;         /**< private: highest page address ever given (hardened builds) */
    struct l4mm_kpool_stats st; /**< private: counters */
};

/**
 * @brief Initialise an empty pool (n = 0). Give it its boot reserve with l4mm_kpool_give().
 * @param p   the pool (caller's memory; any previous contents are overwritten).
 * @param cfg geometry and watermarks; copied.
 * @param ops hooks; copied. NULL means all hooks NULL.
 * @return L4MM_OK, or L4MM_EINVAL (nothing written) iff `p` or `cfg` is NULL,
 *         `cfg->page_size` is not a power of two >= 64, or not `reserve <= low <= high`.
 * @note Cost: O(1). Thread-safety: the caller owns `p`. Never calls a hook; never touches
 *      any page.
 */
l4mm_status l4mm_kpool_init(struct l4mm_kpool *p, const struct l4mm_kpool_config *cfg,
                            const struct l4mm_kpool_ops *ops);

/**
 * @brief Add a page to the pool: the boot reserve, a pager's reply, a fallback page. Allowed
 *        from inside this pool's hooks.
 * @param p    the pool.
 * @param page the page, aligned to page_size, mapped and writable; it belongs to the pool
 *             from now on (its first words are overwritten).
 * @return L4MM_OK;
 *         L4MM_EINVAL iff `p` or `page` is NULL or `page` is not aligned to page_size;
 *         L4MM_ENOENT iff the page is detectably in the pool already (it is the most
 *         recently added page; with L4MM_HARDEN: it carries this pool's free tag).
 *         On error nothing changes.
 * @note Cost: O(1) plus an `excess_pages` call when n rises above high. Clears a reported
 *      pager failure. Never calls `want_pages` or `oom`.
 * Thread-safety: caller serialises calls on the pool.
 */
l4mm_status l4mm_kpool_give(struct l4mm_kpool *p, void *page);

/**
 * @brief The pager answered the outstanding request (its pages were given first).
 * @param p the pool.
 * @return L4MM_OK (also when no request is outstanding: then nothing changes);
 *         L4MM_EINVAL iff `p` is NULL; L4MM_EBUSY iff called from inside a hook.
 * @note Cost: O(1). Never calls a hook.
 *       Thread-safety: caller serialises calls on the pool.
 */
l4mm_status l4mm_kpool_refill_done(struct l4mm_kpool *p);

/**
 * @brief The pager answered the outstanding request: it has no memory. No new request is sent
 *        until the next free or give.
 * @param p the pool.
 * @return L4MM_OK (also when no request is outstanding: then nothing changes);
 *         L4MM_EINVAL iff `p` is NULL; L4MM_EBUSY iff called from inside a hook.
 * @note Cost: O(1). Never calls a hook.
 *       Thread-safety: caller serialises calls on the pool.
 */
l4mm_status l4mm_kpool_refill_failed(struct l4mm_kpool *p);

/**
 * @brief Take one page.
 *
 * CRITICAL succeeds while n > 0, NORMAL and DEFERRABLE while n > reserve. When NORMAL or
 * CRITICAL cannot be served, `oom(ctx, cls, attempt)` is called with attempt 0, 1, ... until
 * the allocation can be served, the hook returns FAIL, or L4MM_KPOOL_OOM_RETRIES calls were
 * made. At the end of the call (success or not) `want_pages(high - n)` is called if n < low,
 * no request is outstanding and the pager has not reported failure since the last free or
 * give.
 * @param p    the pool.
 * @param cls  the class of the allocation.
 * @param page out: the page (written only on success; contents undefined).
 * @return L4MM_OK;
 *         L4MM_EINVAL iff `p` or `page` is NULL or `cls` is not a ::l4mm_kpool_class;
 *         L4MM_EBUSY iff called from inside a hook of this pool;
 *         L4MM_ENOMEM iff the class's limit is reached and the hook (if any) did not help;
 *         pages given by hooks stay in the pool (the one exception to "errors change
 *         nothing");
 *         L4MM_ECORRUPT (L4MM_HARDEN only) iff the free list was overwritten (use after free);
 *         nothing changes.
 * @note Cost: O(1) plus at most L4MM_KPOOL_OOM_RETRIES `oom` calls and one `want_pages` call.
 * Thread-safety: caller serialises calls on the pool.
 */
l4mm_status l4mm_kpool_alloc(struct l4mm_kpool *p, enum l4mm_kpool_class cls, void **page);

/**
 * @brief Return a page taken with l4mm_kpool_alloc().
 * @param p    the pool.
 * @param page the page.
 * @return L4MM_OK;
 *         L4MM_EINVAL iff `p` or `page` is NULL or `page` is not aligned to page_size;
 *         L4MM_EBUSY iff called from inside a hook of this pool;
 *         L4MM_ENOENT iff detectably a double free or a foreign page (see the file comment
 *         for what is detected with and without L4MM_HARDEN). On error nothing changes.
 * @note Cost: O(1) plus an `excess_pages` call when n rises above high. Clears a reported
 *      pager failure. Never calls `want_pages` or `oom`.
 *      Thread-safety: caller serialises calls on the pool.
 */
l4mm_status l4mm_kpool_free(struct l4mm_kpool *p, void *page);

/**
 * @brief Hand one page back (to return it to the pager) while the pool holds more than low.
 * @param p    the pool.
 * @param page out: the page (written only on success).
 * @return L4MM_OK; L4MM_EINVAL iff `p` or `page` is NULL; L4MM_EBUSY iff called from
 *         inside a hook; L4MM_ENOMEM iff n <= low. On error nothing changes.
 * @note Cost: O(1). Never calls a hook.
 *       Thread-safety: caller serialises calls on the pool.
 */
l4mm_status l4mm_kpool_reclaim(struct l4mm_kpool *p, void **page);

/**
 * @brief Read the pool's counters.
 * @param p   the pool (NULL: `out` untouched).
 * @param out out: the counters (NULL: nothing happens).
 * @note Cost: O(1). Read-only; allowed from hooks.
 *       Thread-safety: caller serialises calls on the pool.
 */
void l4mm_kpool_stats(const struct l4mm_kpool *p, struct l4mm_kpool_stats *out);

/**
 * @brief Verify every invariant of the pool: configuration, derived thresholds, flags, and
 *        the free list (exactly n aligned pages, no cycle; tags with L4MM_HARDEN).
 * @param p the pool.
 * @return L4MM_OK; L4MM_EINVAL iff `p` is NULL; L4MM_ECORRUPT iff damage is found.
 * @note Cost: O(n) page reads. Read-only; never asserts; allowed from hooks.
 *       Thread-safety: caller serialises calls on the pool.
 */
l4mm_status l4mm_kpool_check(const struct l4mm_kpool *p);

/**
 * @brief Inline fast path of l4mm_kpool_alloc(): identical contract and results; serves the
 *        common case (the class limit not reached, no watermark work due) in the caller and
 *        calls l4mm_kpool_alloc() for everything else. With L4MM_HARDEN it always calls it.
 * @param p    the pool.
 * @param cls  the class of the allocation.
 * @param page out: the page (written only on success).
 * @return exactly what l4mm_kpool_alloc() returns for the same state and arguments.
 * @note Cost: O(1); about ten instructions when inlined with a constant class (9
 *       measured, x86-64 gcc -O3).
 *       Thread-safety: as l4mm_kpool_alloc().
 */
static inline l4mm_status l4mm_kpool_alloc_fast(struct l4mm_kpool *p, enum l4mm_kpool_class cls,
                                                void **page)
{
#ifndef L4MM_HARDEN
    if (p != NULL && page != NULL && (unsigned)cls <= (unsigned)L4MM_KP_DEFERRABLE) {
        size_t n = p->n;
        if (n > p->limit[cls]) {
            void **w = (void **)p->head;
            p->head = *w;
            p->n = n - 1u;
            *page = w;
            return L4MM_OK;
        }
    }
#endif
    return l4mm_kpool_alloc(p, cls, page);
}

/**
 * @brief Inline fast path of l4mm_kpool_free(): identical contract and results; serves the
 *        common case in the caller and calls l4mm_kpool_free() for everything else (and
 *        always with L4MM_HARDEN).
 * @param p    the pool.
 * @param page the page.
 * @return exactly what l4mm_kpool_free() returns for the same state and arguments.
 * @note Cost: O(1); about fifteen instructions when inlined (15 measured, x86-64 gcc -O3).
 *       Thread-safety: as l4mm_kpool_free().
 */
static inline l4mm_status l4mm_kpool_free_fast(struct l4mm_kpool *p, void *page)
{
#ifndef L4MM_HARDEN
    if (p != NULL && page != NULL && ((uintptr_t)page & p->mask) == 0u) {
        size_t n = p->n;
        if (n < p->free_mark && page != p->head) {
            *(void **)page = p->head;
            p->head = page;
            p->n = n + 1u;
            return L4MM_OK;
        }
    }
#endif
    return l4mm_kpool_free(p, page);
}

/* ---- OOM policy chain ----------------------------------------------------------------- */

/** @brief Maximum number of steps in an ::l4mm_oom_chain. */
#define L4MM_OOM_CHAIN_MAX_STEPS 8u

/** @brief One kind of step of the OOM policy chain. */
enum l4mm_oom_step_kind {
    L4MM_OOM_STEP_FALLBACK, /**< move pages from the fallback pool (reclaim, then alloc) */
    L4MM_OOM_STEP_RECLAIM,  /**< call the reclaim callback (e.g. shrink caches) */
    L4MM_OOM_STEP_KILL      /**< call the kill callback (choose a task, kill it, give its pages) */
};

/** @brief One step of the chain. */
struct l4mm_oom_step {
    enum l4mm_oom_step_kind kind; /**< what the step does */
    unsigned classes; /**< bit (1u << cls) set: the step runs for class cls; 0: for every class */
};

/**
 * @brief Callback of a RECLAIM or KILL step. It gives whatever pages it frees to `pool` with
 *        l4mm_kpool_give() (or l4mm_kcache_shrink() / l4mm_kcache_free() on caches over it)
 *        and may call nothing else of `pool`.
 * @param ctx     the callback's context from the configuration.
 * @param pool    the pool that is out of memory.
 * @param cls     the class of the failing allocation.
 * @param attempt the pool's attempt number.
 */
typedef void (*l4mm_oom_step_fn)(void *ctx, struct l4mm_kpool *pool, enum l4mm_kpool_class cls,
                                 size_t attempt);

/** @brief Configuration of an ::l4mm_oom_chain (copied by l4mm_oom_chain_init()). */
struct l4mm_oom_chain_config {
    struct l4mm_kpool *pool; /**< the pool this chain serves (its `oom` hook) */
    struct l4mm_oom_step steps[L4MM_OOM_CHAIN_MAX_STEPS]; /**< steps, tried in order */
    size_t nsteps;                                        /**< number of valid entries in `steps` */
    struct l4mm_kpool *fallback; /**< FALLBACK: the pool to take pages from (same page size) */
    enum l4mm_kpool_class fallback_class; /**< FALLBACK: class used to allocate from it */
    size_t fallback_batch;                /**< FALLBACK: pages moved per step (>= 1) */
    l4mm_oom_step_fn reclaim;             /**< RECLAIM: the callback */
    void *reclaim_ctx;                    /**< RECLAIM: its context */
    l4mm_oom_step_fn kill;                /**< KILL: the callback */
    void *kill_ctx;                       /**< KILL: its context */
};

/** @brief An OOM policy: use l4mm_oom_chain_hook() as the pool's `oom` with ctx = the chain.
 *  Complete type; fields private. */
struct l4mm_oom_chain {
    struct l4mm_oom_chain_config cfg; /**< private: configuration */
    size_t calls;                     /**< private: hook calls */
    size_t fallback_pages;            /**< private: pages moved from the fallback pool */
    size_t reclaim_calls;             /**< private: reclaim callback calls */
    size_t kill_calls;                /**< private: kill callback calls */
    size_t fails;                     /**< private: calls that answered FAIL */
    uintptr_t magic;                  /**< private: initialisation marker */
};

/**
 * @brief Initialise a chain.
 * @param ch  the chain.
 * @param cfg its configuration; copied.
 * @return L4MM_OK; L4MM_EINVAL iff `ch`, `cfg` or `cfg->pool` is NULL, `nsteps` exceeds
 *         ::L4MM_OOM_CHAIN_MAX_STEPS, a step kind or class mask is unknown, a FALLBACK step
 *         has no fallback pool, the fallback is the pool itself, has a different page size,
 *         the batch is 0 or the fallback class is unknown, or a RECLAIM/KILL step has a NULL
 *         callback. Nothing written on error.
 * @note Cost: O(nsteps).
 *       Thread-safety: the caller owns `ch`. Never calls anything.
 */
l4mm_status l4mm_oom_chain_init(struct l4mm_oom_chain *ch, const struct l4mm_oom_chain_config *cfg);

/**
 * @brief The `oom` hook: runs the steps that apply to `cls` in order and stops at the first
 *        that added pages to the pool; answers RETRY iff the pool gained pages during the
 *        call, FAIL otherwise. It never panics and never calls anything of the pool but give.
 * @param ctx     the ::l4mm_oom_chain (NULL or uninitialised: FAIL).
 * @param cls     the class of the failing allocation.
 * @param attempt the pool's attempt number (passed to the callbacks).
 * @return ::L4MM_OOM_RETRY or ::L4MM_OOM_FAIL as above.
 * @note Cost: O(nsteps * fallback_batch) plus the callbacks and the fallback pool's own hooks.
 *       Thread-safety: runs inside the pool's alloc, under the caller's serialisation of
 *       that pool; the fallback pool must be serialised by the same lock (or one taken here
 *       by the callbacks' owner).
 */
enum l4mm_oom_action l4mm_oom_chain_hook(void *ctx, enum l4mm_kpool_class cls, size_t attempt);

/** @brief Counters of an ::l4mm_oom_chain. */
struct l4mm_oom_chain_stats {
    size_t calls;          /**< hook calls */
    size_t fallback_pages; /**< pages moved from the fallback pool */
    size_t reclaim_calls;  /**< reclaim callback calls */
    size_t kill_calls;     /**< kill callback calls */
    size_t fails;          /**< calls that answered FAIL */
};

/**
 * @brief Read a chain's counters.
 * @param ch  the chain (NULL: nothing happens).
 * @param out out: the counters (NULL: nothing happens).
 * @note Cost: O(1).
 *       Thread-safety: caller serialises calls on the chain.
 */
void l4mm_oom_chain_stats(const struct l4mm_oom_chain *ch, struct l4mm_oom_chain_stats *out);

/* ---- object cache --------------------------------------------------------------------- */

/** @brief Private: a slab link entry that ends the free list (also "no free slot"). */
#define L4MM_KCACHE_SLOT_END 0xffffu
/** @brief Private: the slab link entry of a slot that is handed out. */
#define L4MM_KCACHE_SLOT_USED 0xfffeu

/**
 * @brief Private: the header at the start of every slab page of an ::l4mm_kcache (and the
 *        cache's own stand-in for "no slab"). Fields private.
 *
 * In the page it is followed by an array of `uint16_t`, one entry per object slot: the index
 * of the next free slot (free-list link), ::L4MM_KCACHE_SLOT_END at the end of the free
 * list, ::L4MM_KCACHE_SLOT_USED while the slot is handed out. The links live in the header, not in
 * the objects, so a write into a freed object cannot redirect the allocator.
 */
struct l4mm_kcache_slab {
    uintptr_t tag;                 /**< private: the cache's key XOR the page address */
    struct l4mm_kcache_slab *next; /**< private: list link (partial or full list) */
    struct l4mm_kcache_slab *prev; /**< private: list link (partial or full list) */
    uint32_t used2; /**< private: objects of this slab handed out, minus 2 (wrapping) */
    uint16_t free;  /**< private: first free slot or ::L4MM_KCACHE_SLOT_END */
    uint16_t pad;   /**< private: zero */
};

/**
 * @brief A cache of fixed-size objects in whole pages of a pool. Complete type; fields
 *        private. Must not be moved after l4mm_kcache_init().
 *
 * Each page (slab) starts with a header (tag, list links, counters, per-slot link array);
 * objects follow at a stride of obj_size rounded up to 8 and are 8-byte aligned.
 * Allocations come from the current slab `cur`; other slabs with free objects wait on the
 * partial list, slabs without on the full list. At most one empty page is kept; further
 * empty pages go back to the pool.
 */
struct l4mm_kcache {
    struct l4mm_kcache_slab *cur; /**< private: slab allocations come from (`none`: no slab) */
    uintptr_t pmask;              /**< private: page_size - 1 */
    size_t hdr;                   /**< private: header bytes at the start of each page */
    uintptr_t inv;                /**< private: inverse of stride's odd part mod 2^bits */
    unsigned shift;               /**< private: log2 of stride's power-of-two part */
    size_t cap;                   /**< private: objects per page */
    uint32_t cap2; /**< private: cap - 2 (wrapping): free's fast path needs used2 < cap2 */
    uintptr_t key; /**< private: slab tag key */
    size_t stride; /**< private: bytes between objects */
    struct l4mm_kcache_slab *partial; /**< private: other slabs with free and used objects */
    struct l4mm_kcache_slab *full;    /**< private: other slabs with every object in use */
    struct l4mm_kcache_slab *empty;   /**< private: the one kept empty slab besides cur, or NULL */
    struct l4mm_kpool *pool;          /**< private: where pages come from */
    size_t obj_size;                  /**< private: requested object size */
    enum l4mm_kpool_class cls;        /**< private: class of the page allocations */
    size_t nslabs;                    /**< private: pages held */
    size_t pages_taken;               /**< private: pages allocated from the pool */
    size_t pages_returned;            /**< private: pages returned to the pool */
    uintptr_t lo;   /**< private: lowest page address ever used as a slab (UINTPTR_MAX: none) */
    uintptr_t span; /**< private: highest such page address minus lo */
    struct l4mm_kcache_slab none; /**< private: stand-in slab with no free object */
};

/** @brief Counters of an ::l4mm_kcache. */
struct l4mm_kcache_stats {
    size_t obj_size;       /**< requested object size */
    size_t stride;         /**< bytes per object slot */
    size_t objs_per_page;  /**< objects per page */
    size_t live;           /**< objects in use */
    size_t pages;          /**< pages held */
    size_t empty_pages;    /**< pages held with no object in use (0 or 1) */
    size_t pages_taken;    /**< pages ever allocated from the pool */
    size_t pages_returned; /**< pages ever returned to the pool */
};

/**
 * @brief Initialise an empty cache over pool `p`. Takes no pages.
 * @param c        the cache.
 * @param p        an initialised pool.
 * @param obj_size object size in bytes.
 * @param cls      class of the page allocations made for this cache.
 * @return L4MM_OK; L4MM_EINVAL iff `c` or `p` is NULL, `cls` is unknown, `obj_size` is 0
 *         or no object of that size fits in a page together with the slab header, or the
 *         pool's page size exceeds 2^31. Nothing written on error. A page holds at most
 *         65533 objects (the rest of a huge page stays unused for tiny objects).
 * @note Cost: O(1). Never calls the pool.
 *       Thread-safety: the caller owns `c`.
 */
l4mm_status l4mm_kcache_init(struct l4mm_kcache *c, struct l4mm_kpool *p, size_t obj_size,
                             enum l4mm_kpool_class cls);

/**
 * @brief Take one object (8-byte aligned, contents undefined).
 * @param c   the cache.
 * @param obj out: the object (written only on success).
 * @return L4MM_OK; L4MM_EINVAL iff `c` or `obj` is NULL; otherwise, when a new page is
 *         needed, the status of l4mm_kpool_alloc() (L4MM_ENOMEM, L4MM_EBUSY inside a
 *         hook, L4MM_ECORRUPT); with L4MM_HARDEN L4MM_ECORRUPT iff a slab's free list was
 *         overwritten. On error the cache is unchanged.
 * @note Cost: O(1) - about twenty instructions when the current slab has a free object;
 *       otherwise one l4mm_kpool_alloc() plus writing the new slab's link array (one
 *       16-bit store per object slot) when no held page has a free object.
 *       Thread-safety: caller serialises calls on the cache and its pool (one lock).
 */
l4mm_status l4mm_kcache_alloc(struct l4mm_kcache *c, void **obj);

/**
 * @brief Return an object. A page header is read only when `obj` lies inside the window of
 *        page addresses this cache has ever used as slabs, so a foreign pointer (a heap or
 *        stack object, an unmapped page) is refused without touching its page.
 * @param c   the cache.
 * @param obj the object.
 * @return L4MM_OK;
 *         L4MM_EINVAL iff `c` or `obj` is NULL, `obj` is not in a page of this cache, or
 *         not at the start of an object slot;
 *         L4MM_ENOENT iff the slot is not in use (double free, never handed out).
 *         On error nothing changes.
 * @note Cost: O(1) plus one page returned to the pool when a second page becomes empty.
 *      Validation needs no division and no loop: a multiply and a rotate test the slot
 *      offset, the slab window and the page header's tag the ownership, the slot's link
 *      entry the use.
 *      Allowed from the pool's hooks. Never calls l4mm_kpool_alloc().
 *      Thread-safety: caller serialises calls on the cache and its pool (one lock).
 */
l4mm_status l4mm_kcache_free(struct l4mm_kcache *c, void *obj);

/**
 * @brief Inline fast path of l4mm_kcache_alloc(): identical contract and results; takes an
 *        object from the current slab in the caller and calls l4mm_kcache_alloc() for
 *        everything else (and always with L4MM_HARDEN).
 * @param c   the cache.
 * @param obj out: the object (written only on success).
 * @return exactly what l4mm_kcache_alloc() returns for the same state and arguments.
 * @note Cost: O(1); about fifteen instructions when inlined with a known cache (14
 *       measured, x86-64 gcc -O3).
 *       Thread-safety: as l4mm_kcache_alloc().
 */
static inline l4mm_status l4mm_kcache_alloc_fast(struct l4mm_kcache *c, void **obj)
{
#ifndef L4MM_HARDEN
    if (c != NULL && obj != NULL) {
        struct l4mm_kcache_slab *s = c->cur;
        size_t idx = s->free;
        if (idx != L4MM_KCACHE_SLOT_END) {
            uint16_t *nx = (uint16_t *)(void *)(s + 1);
            s->free = nx[idx];
            nx[idx] = (uint16_t)L4MM_KCACHE_SLOT_USED;
            s->used2++;
            *obj = (char *)s + c->hdr + idx * c->stride;
            return L4MM_OK;
        }
    }
#endif
    return l4mm_kcache_alloc(c, obj);
}

/**
 * @brief Inline fast path of l4mm_kcache_free(): identical contract, checks and results;
 *        returns a valid object of a slab that stays partial in the caller and calls
 *        l4mm_kcache_free() for everything else (refusals, list moves).
 * @param c   the cache.
 * @param obj the object.
 * @return exactly what l4mm_kcache_free() returns for the same state and arguments.
 * @note Cost: O(1); about 31 instructions when inlined with a known cache (x86-64 gcc
 *       -O3).
 *       Thread-safety: as l4mm_kcache_free().
 */
static inline l4mm_status l4mm_kcache_free_fast(struct l4mm_kcache *c, void *obj)
{
    if (c != NULL) {
        const unsigned bits = (unsigned)(sizeof(uintptr_t) * 8u);
        uintptr_t a = (uintptr_t)obj, in = a & c->pmask;
        uintptr_t y = (in - (uintptr_t)c->hdr) * c->inv;
        unsigned k = c->shift;
        size_t idx = (size_t)((y >> k) | (y << ((bits - k) & (bits - 1u))));
        struct l4mm_kcache_slab *s = (struct l4mm_kcache_slab *)(void *)(a - in);
        if (idx < c->cap && (uintptr_t)s - c->lo <= c->span && s->tag == (c->key ^ (uintptr_t)s)) {
            uint16_t *nx = (uint16_t *)(void *)(s + 1);
            /* 2 <= objects in use < cap: not full, and does not become empty */
            if (nx[idx] == L4MM_KCACHE_SLOT_USED && s->used2 < c->cap2) {
                nx[idx] = s->free;
                s->free = (uint16_t)idx;
                s->used2--;
                return L4MM_OK;
            }
        }
    }
    return l4mm_kcache_free(c, obj);
}

/**
 * @brief Return the kept empty page (if any) to the pool, e.g. from a RECLAIM step.
 * @param c the cache.
 * @return L4MM_OK (also when there was none); L4MM_EINVAL iff `c` is NULL.
 * @note Cost: O(1). Allowed from the pool's hooks.
 *       Thread-safety: caller serialises calls on the cache and its pool (one lock).
 */
l4mm_status l4mm_kcache_shrink(struct l4mm_kcache *c);

/**
 * @brief Read a cache's counters.
 * @param c   the cache (NULL: nothing happens).
 * @param out out: the counters (NULL: nothing happens).
 * @note Cost: O(pages held): `live` is the sum over the slabs (the fast paths keep no
 *       total). Read-only.
 *       Thread-safety: caller serialises calls on the cache.
 */
void l4mm_kcache_stats(const struct l4mm_kcache *c, struct l4mm_kcache_stats *out);

/**
 * @brief Verify every invariant of the cache: geometry, list membership, slab tags, each
 *        slab's bitmap, free list and in-use count, and the totals.
 * @param c the cache.
 * @return L4MM_OK; L4MM_EINVAL iff `c` is NULL; L4MM_ECORRUPT iff damage is found.
 * @note Cost: O(pages * objects per page). Read-only; never asserts.
 *       Thread-safety: caller serialises calls on the cache.
 */
l4mm_status l4mm_kcache_check(const struct l4mm_kcache *c);

#ifdef __cplusplus
}
#endif

#endif /* L4MM_KPOOL_H */
