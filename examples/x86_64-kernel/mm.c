/*
 * mm.c - where the kernel meets l4mm: the kernel pool and its hooks (refill by IPC to
 * sigma0, OOM policy), the mapping database and its `changed` callback (page tables +
 * invlpg), map/grant items, budgeted unmap, and the final checks.
 */
#include "task.h"

struct l4mm_kpool kpool;
struct l4mm_kcache nodecache;
struct l4mm_mapdb mapdb;
struct l4mm_buddy dmapool;
struct l4mm_msgq kq;

#define KQ_CAP 2u
static struct kmsg kq_store[KQ_CAP];
static uint64_t dma_meta[512];
static struct l4mm_mapdb_op unmap_op;

unsigned long stat_faults, stat_refills, stat_refill_pages, stat_refill_failed;
static unsigned long stat_changed, stat_items;
static size_t pending_refill;
static bool check_sent;
bool mm_changed_verbose = true;
bool mm_in_hook;         /* inside a kpool hook: node frees are postponed */
void *mm_deferred_nodes; /* those postponed frees, linked through the nodes */
static unsigned refill_lines;

bool verbose_va(uint64_t va)
{
    return va < VA_HOG;
}

/* sigma0's roots, in address order: the kernel's own index (the database keeps none, and a
 * find by address scans every node), so a sigma0 fpage finds its root in O(roots). */
#define MAX_ROOTS 64u
static struct {
    uint64_t paddr, size;
    l4mm_mapping *m;
} roots[MAX_ROOTS];
static unsigned nroots;

bool mm_add_root(uint64_t paddr, unsigned order, l4mm_mapping *m)
{
    if (nroots == MAX_ROOTS)
        return false;
    roots[nroots].paddr = paddr;
    roots[nroots].size = 1ull << order;
    roots[nroots].m = m;
    nroots++;
    return true;
}

/* sigma0's root covering [pa, pa + size), or ENOENT */
static l4mm_status sigma0_root(uint64_t pa, uint64_t size, l4mm_mapping **out)
{
    unsigned i;
    for (i = 0; i < nroots; i++) {
        if (pa >= roots[i].paddr && pa - roots[i].paddr < roots[i].size) {
            if (size > roots[i].size - (pa - roots[i].paddr))
                return L4MM_ENOENT;
            *out = roots[i].m;
            return L4MM_OK;
        }
    }
    return L4MM_ENOENT;
}

struct l4mm_kpool_stats mm_pool_stats(void)
{
    struct l4mm_kpool_stats s;
    l4mm_kpool_stats(&kpool, &s);
    return s;
}

size_t mm_pool_n(void)
{
    return mm_pool_stats().pages;
}

uint64_t mm_tag(int64_t label, unsigned u, unsigned t)
{
    struct l4mm_msgtag tag = { label, u, t, 0 };
    uint64_t w = 0;
    if (l4mm_x2_tag_encode(&tag, &w) != L4MM_OK)
        panic("tag encode");
    return w;
}

/* ---- kpool hooks -------------------------------------------------------------------- */

/* The refill request is the X.2 sigma0 RPC (label -6<<4): "any page" of 2^k frames, the
 * largest power of two not above what the pool wants (at most 16 frames per request). */
static unsigned refill_order(size_t n)
{
    unsigned k = 0;
    while (k < 4 && (2ul << k) <= n)
        k++;
    return k;
}

static bool refill_msg(size_t n, struct kmsg *m)
{
    struct l4mm_x2_sigma0_req r;
    size_t words = 0;
    memset(&r, 0, sizeof(r));
    memset(m, 0, sizeof(*m));
    r.fpage.kind = L4MM_FPAGE_MEM;
    r.fpage.order = 12 + refill_order(n);
    r.fpage.rights = L4MM_RWX;
    r.any = true;
    return l4mm_x2_sigma0_req_encode(&r, m->mr, &words) == L4MM_OK;
}

static void on_want_pages(void *ctx, size_t n)
{
    struct kmsg m;
    (void)ctx;
    stat_refills++;
    if (!refill_msg(n, &m))
        panic("sigma0 request encode");
    if (l4mm_msgq_push(&kq, &m) != L4MM_OK) {
        pending_refill = n;
        kprintf("[kpool] want_pages(%zu): msgq to sigma0 is full (BUSY); the request waits\n", n);
        return;
    }
    if (refill_lines < 4) {
        kprintf("[kpool] below low watermark (n=%zu < %zu): want_pages(%zu) -> refill IPC "
                "from kernel tid %u queued for sigma0 (msgq %zu/%u): X.2 sigma0 RPC, any "
                "%lu KiB fpage\n",
                mm_pool_n(), mm_pool_stats().low, n, TID_KERNEL, l4mm_msgq_count(&kq), KQ_CAP,
                4ul << refill_order(n));
    }
}

/* Above the high watermark the surplus goes back where it came from, outside the hook
 * (kpool_reclaim may not run inside one): sigma0's frames by grant items through the queue,
 * DMA frames to the DMA pool, the kernel's own boot frames to a spare list. */
#define RET_MAX    7u /* grant items per message */
#define MAX_SPARES 1024u
static uint64_t ret_batch[RET_MAX];
static unsigned ret_n, excess_lines;
static bool excess_pending;
static uint64_t dma_lo, dma_hi;
static unsigned long ret_sigma0, ret_dma;
uint64_t mm_spares[MAX_SPARES];
unsigned mm_nspares;

static void on_excess(void *ctx, size_t n)
{
    (void)ctx;
    excess_pending = true;
    if (excess_lines < 2)
        kprintf("[kpool] excess_pages(%zu): above the high watermark; the surplus goes back\n", n);
}

static bool push_return(void)
{
    struct kmsg m;
    unsigned i;
    memset(&m, 0, sizeof(m));
    m.mr[0] = mm_tag(LBL_RETURN, 0, 2 * ret_n);
    for (i = 0; i < ret_n; i++) {
        struct l4mm_map_item it;
        memset(&it, 0, sizeof(it));
        it.fpage.kind = L4MM_FPAGE_MEM;
        it.fpage.base = ret_batch[i];
        it.fpage.order = 12;
        it.fpage.rights = L4MM_RWX;
        it.snd_base = ret_batch[i];
        it.grant = true;
        if (l4mm_x2_item_encode(&it, &m.mr[1 + 2 * i]) != L4MM_OK)
            panic("return item encode");
    }
    if (l4mm_msgq_push(&kq, &m) != L4MM_OK)
        return false; /* BUSY: the batch waits for the next round */
    ret_sigma0 += ret_n;
    ret_n = 0;
    return true;
}

static void return_excess(void)
{
    l4mm_mapping *m;
    void *p;
    if (!excess_pending || (ret_n == RET_MAX && !push_return()))
        return;
    while (mm_pool_n() > mm_pool_stats().high && l4mm_kpool_reclaim(&kpool, &p) == L4MM_OK) {
        uint64_t pa = V2P(p);
        if (sigma0_root(pa, PAGE, &m) == L4MM_OK) {
            ret_batch[ret_n++] = pa;
            if (ret_n == RET_MAX && !push_return())
                return;
        } else if (pa >= dma_lo && pa < dma_hi) {
            if (l4mm_buddy_free(&dmapool, pa, 0) == L4MM_OK)
                ret_dma++;
        } else if (mm_nspares < MAX_SPARES) {
            mm_spares[mm_nspares++] = pa;
        } else {
            l4mm_kpool_give(&kpool, p);
            break;
        }
    }
    if (ret_n && !push_return())
        return;
    excess_pending = false;
    if (excess_lines++ < 2)
        kprintf("[kpool] surplus returned with kpool_reclaim: %lu frames granted back to sigma0 "
                "in all, %lu to the DMA pool, %u boot frames kept as spares (n=%zu)\n",
                ret_sigma0, ret_dma, mm_nspares, mm_pool_n());
}

/* ---- mapdb callbacks ---------------------------------------------------------------- */

static void *on_node_alloc(void *ctx)
{
    void *o = NULL;
    (void)ctx;
    return l4mm_kcache_alloc(&nodecache, &o) == L4MM_OK ? o : NULL;
}

static void on_node_free(void *ctx, void *node)
{
    (void)ctx;
    if (mm_in_hook) { /* a kpool hook may only give to the pool: free later */
        *(void **)node = mm_deferred_nodes;
        mm_deferred_nodes = node;
        return;
    }
    if (l4mm_kcache_free(&nodecache, node) != L4MM_OK)
        panic("kcache_free refused a mapdb node");
}

static void on_changed(void *ctx, l4mm_space_id sp, l4mm_addr_t va, unsigned order, unsigned old,
                       unsigned nw)
{
    struct thread *t;
    uint64_t a, end = va + (1ull << order);
    bool live;
    (void)ctx;
    stat_changed++;
    if (sp >= NTHREADS || sp == TID_SIGMA0 || sp == TID_KERNEL)
        return; /* no page tables behind sigma0's idempotent names */
    t = &threads[sp];
    if (!t->pml4)
        return;
    live = V2P(t->pml4) == read_cr3();
    for (a = va; a < end; a += PAGE) {
        l4mm_mapping **sh;
        uint64_t *pte = vm_pte(t, a, &sh);
        if (!pte)
            continue;
        if (nw == 0) {
            if (*pte & 1u)
                t->mapped--;
            *pte = 0;
            *sh = NULL;
        } else {
            vm_set(t, a, *pte & 0x000ffffffffff000ull, nw, *sh);
        }
        if (live)
            invlpg(a); /* other spaces: their TLB entries went with the last CR3 switch */
    }
    if (mm_changed_verbose && verbose_va(va))
        kprintf("[changed] %s va 0x%lx order %u %s -> %s: PTE %s%s\n", t->name, va, order,
                rights_str(old), rights_str(nw), nw ? "updated" : "cleared",
                live ? ", invlpg" : " (not the current space: no TLB entry)");
}

/* ---- boot --------------------------------------------------------------------------- */

void mm_init(void)
{
    static const struct l4mm_kpool_config cfg = { PAGE, 8, 16, 32 };
    static const struct l4mm_kpool_ops kops = { on_want_pages, on_excess, mm_on_oom, NULL };
    static const struct l4mm_mapdb_ops mops = { on_node_alloc, on_node_free, on_changed, NULL };
    if (l4mm_kpool_init(&kpool, &cfg, &kops) != L4MM_OK ||
        l4mm_kcache_init(&nodecache, &kpool, L4MM_MAPDB_NODE_SIZE, L4MM_KP_NORMAL) != L4MM_OK ||
        l4mm_mapdb_init(&mapdb, &mops) != L4MM_OK ||
        l4mm_msgq_init(&kq, kq_store, sizeof(kq_store), sizeof(struct kmsg)) != L4MM_OK)
        panic("l4mm init");
}

/* The DMA pool: a second buddy instance over a small contiguous range below 16 MiB. */
void mm_dma_init(uint64_t base, uint64_t size)
{
    size_t need = l4mm_buddy_meta_size(base, size, 12, 4);
    dma_lo = base;
    dma_hi = base + size;
    l4mm_status st;
    if (need > sizeof(dma_meta))
        panic("dma meta too small");
    st = l4mm_buddy_init(&dmapool, dma_meta, sizeof(dma_meta), base, size, 12, 4);
    if (st == L4MM_OK)
        st = l4mm_buddy_add(&dmapool, base, size);
    if (st != L4MM_OK)
        panic("dma pool init");
    kprintf("[boot] fallback DMA pool: buddy over [0x%lx, 0x%lx), %lu pages, meta %zu bytes\n",
            base, base + size, size / PAGE, need);
}

void mm_msgq_demo(void)
{
    struct kmsg ping = { { mm_tag(LBL_PING, 0, 0), 0, 0, 0 } };
    unsigned ok = 0;
    l4mm_status st;
    kprintf("[msgq] kernel -> sigma0 queue: bounded, %u slots in kernel storage, holds %zu\n",
            KQ_CAP, l4mm_msgq_count(&kq));
    while ((st = l4mm_msgq_push(&kq, &ping)) == L4MM_OK)
        ok++;
    kprintf("[msgq] pushed %u probe(s), then push -> %s: queue full, nothing changed, no "
            "allocation; the sender retries later\n",
            ok, st == L4MM_EBUSY ? "BUSY" : l4mm_strerror(st));
}

/* ---- map and grant items ------------------------------------------------------------ */

static l4mm_status refuse(struct thread *s, struct thread *d, const struct l4mm_map_item *it,
                          l4mm_status st, const char *why)
{
    kprintf("[map] %s -> %s: %s of 0x%lx refused: %s (%s)\n", s->name, d->name,
            it->grant ? "grant" : "map", it->fpage.base, why, l4mm_strerror(st));
    return st;
}

l4mm_status mm_item(struct thread *src, struct thread *dst, const struct l4mm_map_item *it,
                    bool verbose)
{
    const struct l4mm_fpage *f = &it->fpage;
    struct l4mm_mapping_info mi, oi;
    l4mm_mapping *m = NULL, *out = NULL;
    uint64_t size, off, to, va, i;
    l4mm_status st;

    stat_items++;
    if (f->kind != L4MM_FPAGE_MEM || f->complete || f->order < 12 || f->order > 21)
        return refuse(src, dst, it, L4MM_EINVAL, "unsupported fpage");
    size = 1ull << f->order;
    to = it->snd_base; /* receive window: the receiver's whole space, as for a page fault */
    if ((to & (size - 1)) || to < PAGE || to + size > U_LIMIT ||
        (to < U_BOOT_END && to + size > U_IMAGE))
        return refuse(src, dst, it, L4MM_EINVAL, "bad target address");
    if (src->tid == TID_SIGMA0) {
        st = sigma0_root(f->base, 1ull << f->order, &m);
        if (st != L4MM_OK)
            return refuse(src, dst, it, st, "sigma0 does not own that frame");
    } else {
        l4mm_mapping **sh;
        uint64_t *pte = vm_pte(src, f->base, &sh);
        if (!pte || !*sh)
            return refuse(src, dst, it, L4MM_ENOENT, "sender has no such mapping");
        m = *sh;
    }
    l4mm_mapdb_info(m, &mi);
    if (f->base < mi.vaddr || f->base - mi.vaddr + size > (1ull << mi.order))
        return refuse(src, dst, it, L4MM_EINVAL, "fpage larger than the sender's mapping");
    off = f->base - mi.vaddr;
    for (va = to; va < to + size; va += PAGE) {
        uint64_t *pte = vm_pte(dst, va, NULL);
        if (pte && (*pte & 1u))
            return refuse(src, dst, it, L4MM_EBUSY, "target already mapped");
    }
    for (va = to; va < to + size; va += PAGE)
        if (vm_ensure(dst, va))
            return refuse(src, dst, it, L4MM_ENOMEM, "no kernel memory for page tables");
    if (it->grant) {
        if (off != 0 || f->order != mi.order)
            return refuse(src, dst, it, L4MM_EINVAL, "grant must cover the whole mapping");
        st = l4mm_mapdb_grant(&mapdb, m, dst->tid, to, f->rights, &out);
    } else {
        st = l4mm_mapdb_map(&mapdb, m, off, f->order, dst->tid, to, f->rights, &out);
    }
    if (st == L4MM_EPERM) {
        kprintf("[map] %s -> %s: asked %s of a %s mapping -> EPERM: refused, rights never "
                "escalate\n",
                src->name, dst->name, rights_str(f->rights), rights_str(mi.rights));
        return st;
    }
    if (st != L4MM_OK)
        return refuse(src, dst, it, st, "mapping database");
    l4mm_mapdb_info(out, &oi);
    for (i = 0; i < size; i += PAGE)
        vm_set(dst, to + i, oi.paddr + i, oi.rights, out);
    if (verbose) {
        kprintf("[map] %s -> %s: %s 0x%lx -> va 0x%lx (frame 0x%lx, depth %u): asked %s, "
                "got %s%s; PTE installed\n",
                src->name, dst->name, it->grant ? "grant" : "map", f->base, to, oi.paddr, oi.depth,
                rights_str(f->rights), rights_str(oi.rights),
                oi.rights != (f->rights & L4MM_RWX) ? " (rights never escalate)" : "");
    }
    return L4MM_OK;
}

/* ---- refill reply, OOM, unmap ------------------------------------------------------- */

/* sigma0's answer to the kernel's sigma0 RPC: one map item (its pages join the pool), or
 * the nil item: no memory. */
void mm_refill_reply(const uint64_t *mr, size_t n_mr)
{
    struct l4mm_map_item it;
    const struct l4mm_fpage *f = &it.fpage;
    l4mm_mapping *root;
    struct l4mm_mapping_info ri;
    unsigned pages = 0;
    uint64_t a;
    l4mm_status st = l4mm_x2_sigma0_reply_decode(mr, n_mr, &it);
    if (st != L4MM_OK) {
        kprintf("[kpool] malformed refill reply from sigma0 refused (%s)\n", l4mm_strerror(st));
    } else if (!f->nil && f->kind == L4MM_FPAGE_MEM && f->order >= 12 && f->order <= 21 &&
               sigma0_root(f->base, 1ull << f->order, &root) == L4MM_OK) {
        l4mm_mapdb_info(root, &ri);
        if (ri.depth == 0 && f->base + (1ull << f->order) <= ri.paddr + (1ull << ri.order))
            for (a = f->base; a < f->base + (1ull << f->order); a += PAGE)
                if (l4mm_kpool_give(&kpool, P2V(a)) == L4MM_OK)
                    pages++;
    }
    stat_refill_pages += pages;
    if (pages) {
        l4mm_kpool_refill_done(&kpool);
        if (refill_lines++ < 4)
            kprintf("[kpool] refill reply from sigma0: %s item, fpage 0x%lx order %u -> "
                    "kpool_give x%u, refill_done (n=%zu)\n",
                    it.grant ? "grant" : "map", f->base, f->order, pages, mm_pool_n());
    } else if (st == L4MM_OK) {
        l4mm_kpool_refill_failed(&kpool);
        stat_refill_failed++;
        kprintf("[kpool] refill reply from sigma0: nil map item (no memory) -> "
                "kpool_refill_failed; no new request until a free or give (n=%zu)\n",
                mm_pool_n());
    }
}

void mm_unmap(struct thread *t, uint64_t word, unsigned flags)
{
    struct l4mm_fpage f;
    l4mm_mapping *m = NULL;
    l4mm_status st = l4mm_x2_fpage_decode(word, &f);
    unsigned steps = 0;
    if (st == L4MM_OK && (f.nil || f.complete || f.kind != L4MM_FPAGE_MEM))
        st = L4MM_EINVAL;
    if (st == L4MM_OK) {
        l4mm_mapping **sh;
        uint64_t *pte = vm_pte(t, f.base, &sh);
        if (t->tid == TID_SIGMA0)
            st = sigma0_root(f.base, 1ull << f.order, &m);
        else if (!pte || !*sh)
            st = L4MM_ENOENT;
        else
            m = *sh;
    }
    if (st == L4MM_OK)
        st = l4mm_mapdb_unmap_start(&mapdb, &unmap_op, m, f.rights,
                                    (flags & 1u) ? L4MM_UNMAP_SELF : 0u);
    if (st != L4MM_OK) {
        kprintf("[unmap] %s: refused (%s)\n", t->name, l4mm_strerror(st));
        t->ctx.rax = st;
        return;
    }
    kprintf("[unmap] %s unmaps %s from everything derived from its 0x%lx%s: budgeted, 1 node "
            "per step\n",
            t->name, rights_str(f.rights), f.base, (flags & 1u) ? " (and itself)" : "");
    do {
        st = l4mm_mapdb_unmap_step(&mapdb, &unmap_op, 1);
        steps++;
        if (st == L4MM_EAGAIN && steps <= 6)
            kprintf("[unmap] step %u: EAGAIN (budget spent; tree consistent, other operations "
                    "may run here)\n",
                    steps);
    } while (st == L4MM_EAGAIN && steps < 100000);
    kprintf("[unmap] finished after %u steps: %s\n", steps, l4mm_strerror(st));
    t->ctx.rax = st;
}

void mm_pump(void)
{
    return_excess();
    if (pending_refill) {
        struct kmsg m;
        if (refill_msg(pending_refill, &m) && l4mm_msgq_push(&kq, &m) == L4MM_OK) {
            kprintf("[kpool] queued the waiting refill request (%zu pages)\n", pending_refill);
            pending_refill = 0;
        }
    }
}

void mm_idle(void)
{
    struct kmsg m = { { mm_tag(LBL_CHECK, 0, 0), 0, 0, 0 } };
    unsigned i;
    if (!check_sent && threads[TID_SIGMA0].state == T_RECV && l4mm_msgq_push(&kq, &m) == L4MM_OK) {
        check_sent = true;
        kprintf("[kernel] no client left: asking sigma0 to check its buddy\n");
        deliver_kernel_msgs();
        return;
    }
    kprintf("[kernel] nothing runnable:");
    for (i = TID_SIGMA0; i < NTHREADS; i++)
        kprintf(" %s=%d", threads[i].name, (int)threads[i].state);
    kprintf("\nl4mm demo: FAIL (deadlock)\n");
    qemu_exit(EXIT_FAIL);
}

static bool report(const char *what, l4mm_status st)
{
    kprintf("[check] %s: %s\n", what, l4mm_strerror(st));
    return st == L4MM_OK;
}

void mm_final(unsigned s0)
{
    struct l4mm_kpool_stats ks;
    bool ok = true;
    ok &= report("l4mm_buddy_check (sigma0's frames, run by sigma0)", (l4mm_status)s0);
    ok &= report("l4mm_mapdb_check", l4mm_mapdb_check(&mapdb));
    ok &= report("l4mm_kpool_check", l4mm_kpool_check(&kpool));
    ok &= report("l4mm_buddy_check (DMA pool)", l4mm_buddy_check(&dmapool));
    ok &= report("l4mm_msgq_check", l4mm_msgq_check(&kq));
    l4mm_kpool_stats(&kpool, &ks);
    kprintf("[stats] faults %lu, map items %lu, changed %lu, refill requests %zu (done %zu, "
            "failed %zu, %lu pages), oom hook calls %zu, pool n=%zu lowest %zu\n",
            stat_faults, stat_items, stat_changed, ks.refill_requests, ks.refills_done,
            ks.refills_failed, stat_refill_pages, ks.oom_calls, ks.pages, ks.lowest);
    if (!ok) {
        kprintf("l4mm demo: FAIL\n");
        qemu_exit(EXIT_FAIL);
    }
    kprintf("l4mm demo: PASS\n");
    qemu_exit(EXIT_PASS);
}
