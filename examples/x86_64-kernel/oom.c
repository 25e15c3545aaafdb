/*
 * oom.c - the kernel's out-of-memory policy. sigma0 says "no memory" honestly (a nil map
 * item); the kernel then shows every kpool class: DEFERRABLE fails at once (the work is
 * postponed), NORMAL goes through the OOM hook (fallback DMA pool, then kill one task, then
 * fail), CRITICAL is served from the reserve. Nothing panics.
 */
#include "task.h"

#define MAX_DRILL 1024u
static void *drill[MAX_DRILL];
static unsigned kill_allowed; /* tasks the hook may still kill in this drill */

static struct thread *pick_victim(void)
{
    struct thread *v = NULL;
    unsigned i;
    for (i = 0; i < NTHREADS; i++) {
        struct thread *t = &threads[i];
        if (t->tid == TID_SIGMA0 || !t->pml4 || t->state == T_FREE)
            continue;
        if (!v || t->mapped > v->mapped)
            v = t;
    }
    return v;
}

/* Remove every mapping t holds (and what others derived from them). */
static void unmap_all(struct thread *t)
{
    unsigned i, j;
    for (i = 0; i < t->npts; i++) {
        for (j = 0; j < 512; j++) {
            l4mm_mapping *h = t->pts[i].shadow[j];
            if (h && l4mm_mapdb_unmap(&mapdb, h, L4MM_RWX, L4MM_UNMAP_SELF) != L4MM_OK)
                panic("unmap_all");
        }
    }
}

void mm_release_task(struct thread *t, bool in_kpool_hook)
{
    struct kmsg m = { { mm_tag(LBL_DIED, 1, 0), t->tid, 0, 0 } };
    bool quiet = mm_changed_verbose;
    unsigned long had = t->mapped;
    unsigned pages;
    if (V2P(t->pml4) == read_cr3())
        write_cr3(V2P(kx_boot_pml4));
    mm_changed_verbose = false;
    unmap_all(t);
    mm_changed_verbose = quiet;
    pages = vm_teardown(t, in_kpool_hook);
    kprintf("[kernel] %s's %lu mappings removed from the mapdb, %u kernel pages (tables, "
            "image) back to the pool\n",
            t->name, had, pages);
    if (l4mm_msgq_push(&kq, &m) != L4MM_OK)
        kprintf("[kernel] msgq full: sigma0 not told about %s (BUSY)\n", t->name);
}

enum l4mm_oom_action mm_on_oom(void *ctx, enum l4mm_kpool_class cls, size_t attempt)
{
    static const char *const cname[3] = { "CRITICAL", "NORMAL", "DEFERRABLE" };
    unsigned got = 0;
    l4mm_addr_t pa;
    struct thread *v;
    (void)ctx;
    while (got < 16 && mm_nspares) {
        l4mm_kpool_give(&kpool, P2V(mm_spares[--mm_nspares]));
        got++;
    }
    if (got) {
        kprintf("[oom] hook(%s, attempt %zu): the kernel's spare boot frames give %u pages -> "
                "RETRY\n",
                cname[cls], attempt, got);
        return L4MM_OOM_RETRY;
    }
    while (got < 16 && l4mm_buddy_alloc(&dmapool, 0, &pa) == L4MM_OK) {
        l4mm_kpool_give(&kpool, P2V(pa));
        got++;
    }
    if (got) {
        kprintf("[oom] hook(%s, attempt %zu): fallback DMA pool gives %u pages -> RETRY\n",
                cname[cls], attempt, got);
        return L4MM_OOM_RETRY;
    }
    v = kill_allowed ? pick_victim() : NULL; /* at most one task per drill */
    if (v) {
        kprintf("[oom] hook(%s, attempt %zu): DMA pool empty; policy kills task %s (%lu "
                "pages mapped)\n",
                cname[cls], attempt, v->name, v->mapped);
        kill_allowed--;
        mm_in_hook = true;
        kill_thread(v, "out of memory (OOM policy)");
        mm_release_task(v, true);
        mm_in_hook = false;
        return L4MM_OOM_RETRY;
    }
    kprintf("[oom] hook(%s, attempt %zu): nothing left to reclaim -> FAIL\n", cname[cls], attempt);
    return L4MM_OOM_FAIL;
}

void mm_flush_deferred(void)
{
    while (mm_deferred_nodes) {
        void *n = mm_deferred_nodes;
        mm_deferred_nodes = *(void **)n;
        if (l4mm_kcache_free(&nodecache, n) != L4MM_OK)
            panic("kcache_free refused a deferred node");
    }
}

void mm_oom_user(struct thread *t)
{
    static const char *const cname[3] = { "CRITICAL", "NORMAL", "DEFERRABLE" };
    unsigned nd = 0, count = 0, i;
    l4mm_status st = L4MM_OK;
    void *p;
    kprintf("[oom] sigma0 has no memory for %s's fault at 0x%lx: nil map item (honest OOM)\n",
            t->name, t->fault_addr);
    kprintf("[oom] kernel policy drill: pool n=%zu (reserve %zu, low %zu, high %zu)\n", mm_pool_n(),
            mm_pool_stats().reserve, mm_pool_stats().low, mm_pool_stats().high);
    while (nd < MAX_DRILL && l4mm_kpool_alloc(&kpool, L4MM_KP_DEFERRABLE, &p) == L4MM_OK)
        drill[nd++] = p, count++;
    kprintf("[oom] DEFERRABLE: %u pages, then ENOMEM at n=%zu (the reserve) without any hook: "
            "work deferred\n",
            count, mm_pool_n());
    count = 0;
    kill_allowed = 1;
    while (nd < MAX_DRILL && (st = l4mm_kpool_alloc(&kpool, L4MM_KP_NORMAL, &p)) == L4MM_OK)
        drill[nd++] = p, count++;
    kill_allowed = 0;
    kprintf("[oom] NORMAL: %u pages served (fallback pool, killed task), then %s: the "
            "request fails, no panic\n",
            count, st == L4MM_ENOMEM ? "ENOMEM" : l4mm_strerror(st));
    st = l4mm_kpool_alloc(&kpool, L4MM_KP_CRITICAL, &p);
    if (st == L4MM_OK)
        drill[nd++] = p;
    kprintf("[oom] %s: %s, served from the reserve (n=%zu)\n", cname[L4MM_KP_CRITICAL],
            st == L4MM_OK ? "OK" : l4mm_strerror(st), mm_pool_n());
    mm_flush_deferred(); /* the victim's mapdb nodes, freed inside the hook */
    for (i = 0; i < nd; i++)
        l4mm_kpool_free(&kpool, drill[i]);
    kprintf("[oom] drill pages freed: n=%zu; kernel still running\n", mm_pool_n());
    if (t->state == T_FAULT_WAIT)
        t->state = T_READY; /* not the victim: it retries its fault */
}
