/*
 * vm.c - 4-level page tables of the user spaces. Every table page comes from the kernel
 * pool (class NORMAL), so building address spaces is what draws the pool down. Each page
 * table has a shadow page holding the mapdb handle behind each of its entries.
 */
#include "task.h"

#define PTE_P    1ull
#define PTE_W    2ull
#define PTE_U    4ull
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

void *kpage_alloc(enum l4mm_kpool_class cls)
{
    void *p = NULL;
    if (l4mm_kpool_alloc(&kpool, cls, &p) != L4MM_OK)
        return NULL;
    memset(p, 0, PAGE);
    return p;
}

int vm_create(struct thread *t)
{
    t->pml4 = kpage_alloc(L4MM_KP_NORMAL);
    if (!t->pml4)
        return -1;
    t->pml4[511] = kx_boot_pml4[511]; /* the kernel half, shared by every space */
    return 0;
}

static uint64_t *next_level(uint64_t *table, unsigned idx, bool alloc)
{
    if (!(table[idx] & PTE_P)) {
        uint64_t *n;
        if (!alloc)
            return NULL;
        n = kpage_alloc(L4MM_KP_NORMAL);
        if (!n)
            return NULL;
        table[idx] = V2P(n) | PTE_P | PTE_W | PTE_U;
    }
    return P2V(table[idx] & PTE_ADDR);
}

static struct ptslot *find_slot(struct thread *t, uint64_t va)
{
    unsigned i;
    for (i = 0; i < t->npts; i++)
        if (t->pts[i].va2m == (va & ~0x1fffffull))
            return &t->pts[i];
    return NULL;
}

int vm_ensure(struct thread *t, uint64_t va)
{
    uint64_t *pdpt, *pd;
    struct ptslot *s;
    if (find_slot(t, va))
        return 0;
    if (t->npts == MAX_PTS)
        return -1;
    pdpt = next_level(t->pml4, (unsigned)(va >> 39) & 511, true);
    if (!pdpt)
        return -1;
    pd = next_level(pdpt, (unsigned)(va >> 30) & 511, true);
    if (!pd)
        return -1;
    s = &t->pts[t->npts];
    s->pt = kpage_alloc(L4MM_KP_NORMAL);
    if (!s->pt)
        return -1;
    s->shadow = kpage_alloc(L4MM_KP_NORMAL);
    if (!s->shadow) {
        l4mm_kpool_free(&kpool, s->pt);
        return -1;
    }
    s->va2m = va & ~0x1fffffull;
    pd[(va >> 21) & 511] = V2P(s->pt) | PTE_P | PTE_W | PTE_U;
    t->npts++;
    return 0;
}

uint64_t *vm_pte(struct thread *t, uint64_t va, l4mm_mapping ***shadow)
{
    struct ptslot *s = find_slot(t, va);
    unsigned i = (unsigned)(va >> 12) & 511;
    if (!s)
        return NULL;
    if (shadow)
        *shadow = &s->shadow[i];
    return &s->pt[i];
}

void vm_set(struct thread *t, uint64_t va, uint64_t pa, unsigned rights, l4mm_mapping *h)
{
    l4mm_mapping **sh;
    uint64_t *pte = vm_pte(t, va, &sh);
    uint64_t e = pa | PTE_P | PTE_U;
    if (!pte)
        panic("vm_set without a page table");
    if (rights & L4MM_W)
        e |= PTE_W;
    if (!(rights & L4MM_X))
        e |= PTE_NX;
    if (!(*pte & PTE_P) && h)
        t->mapped++;
    *pte = e;
    *sh = h;
}

static void release(void *page, bool give)
{
    if (give)
        l4mm_kpool_give(&kpool, page);
    else
        l4mm_kpool_free(&kpool, page);
}

/* Hand every page of t's tables (and its boot frames) back to the pool. With give=true it
 * is safe inside a kpool hook (hooks may only give). Returns the number of pages. */
unsigned vm_teardown(struct thread *t, bool give)
{
    unsigned n = 0, i, j, k;
    for (i = 0; i < t->npts; i++) {
        release(t->pts[i].pt, give);
        release(t->pts[i].shadow, give);
        n += 2;
    }
    t->npts = 0;
    for (i = 0; i < 256; i++) {
        uint64_t *pdpt;
        if (!(t->pml4[i] & PTE_P))
            continue;
        pdpt = P2V(t->pml4[i] & PTE_ADDR);
        for (j = 0; j < 512; j++) {
            if (!(pdpt[j] & PTE_P))
                continue;
            release(P2V(pdpt[j] & PTE_ADDR), give);
            n++;
        }
        release(pdpt, give);
        n++;
    }
    release(t->pml4, give);
    t->pml4 = NULL;
    n++;
    for (k = 0; k < t->nboot_frames; k++)
        l4mm_kpool_give(&kpool, P2V(t->boot_frames[k])); /* never were pool pages */
    n += t->nboot_frames;
    t->nboot_frames = 0;
    return n;
}
