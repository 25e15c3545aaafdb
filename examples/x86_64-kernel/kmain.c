/*
 * kmain.c - boot: multiboot memory map, the kernel's boot frames, l4mm instances, sigma0's
 * idempotent ownership of all free memory, the three tasks, then the scheduler.
 */
#include "task.h"

#define MB_BOOT_MAGIC    0x2badb002u
#define BOOT_REGION      (3ull << 20) /* after the kernel: boot frames, DMA pool */
#define BOOT_KPOOL_PAGES 28u
#define DMA_PAGES        32u
#define SIGMA0_CAP       (128ull << 20) /* sigma0's buddy covers at most this much */

static uint64_t boot_next, boot_end;
static struct {
    uint64_t base, size;
} avail[32];
static unsigned navail;

void kmain(uint32_t magic, uint32_t mbi_phys);

/* Failure injection for the harness's own tests (multiboot command line "inject=..."): the
 * boot test must see each of these as a failure, never as a pass. */
static bool has_word(const char *s, const char *w)
{
    for (; *s; s++) {
        const char *a = s, *b = w;
        while (*b && *a == *b)
            a++, b++;
        if (!*b)
            return true;
    }
    return false;
}

static void inject(uint32_t mbi_phys)
{
    const uint8_t *mbi = P2V(mbi_phys);
    const char *cmd;
    if (!(*(const uint32_t *)mbi & (1u << 2)))
        return;
    cmd = P2V(*(const uint32_t *)(mbi + 16));
    if (has_word(cmd, "inject=kfault")) {
        kprintf("[inject] touching an unmapped kernel address\n");
        *(volatile uint64_t *)0xffff900000000000ul = 1;
    }
    if (has_word(cmd, "inject=triple")) {
        static const struct {
            uint16_t limit;
            uint64_t base;
        } __attribute__((packed)) none = { 0, 0 };
        kprintf("[inject] empty IDT, then int3: triple fault\n");
        __asm__ volatile("lidt %0; int3" ::"m"(none));
    }
    if (has_word(cmd, "inject=hang")) {
        kprintf("[inject] hanging\n");
        for (;;)
            __asm__ volatile("cli; hlt");
    }
    if (has_word(cmd, "inject=fail")) {
        kprintf("l4mm demo: FAIL (injected)\n");
        qemu_exit(EXIT_FAIL);
    }
}

static uint64_t boot_frame(void)
{
    uint64_t f = boot_next;
    if (f >= boot_end)
        panic("boot region exhausted");
    boot_next += PAGE;
    memset(P2V(f), 0, PAGE);
    return f;
}

static void read_mmap(uint32_t mbi_phys)
{
    const uint8_t *mbi = P2V(mbi_phys);
    uint32_t flags = *(const uint32_t *)mbi, len, addr, off;
    if (!(flags & (1u << 6)))
        panic("no multiboot memory map");
    len = *(const uint32_t *)(mbi + 44);
    addr = *(const uint32_t *)(mbi + 48);
    for (off = 0; off < len;) {
        const uint8_t *e = P2V((uint64_t)addr + off);
        uint32_t size = *(const uint32_t *)e;
        uint64_t base = *(const uint64_t *)(e + 4), l = *(const uint64_t *)(e + 12);
        uint32_t type = *(const uint32_t *)(e + 20);
        kprintf("[boot] memory 0x%09lx-0x%09lx %s\n", base, base + l,
                type == 1 ? "available" : "reserved");
        if (type == 1 && navail < 32) {
            avail[navail].base = base;
            avail[navail].size = l;
            navail++;
        }
        off += size + 4;
    }
}

/* Load the user ELF (linked at U_IMAGE) into fresh boot frames of t, map them user-readable. */
static uint64_t load_image(struct thread *t)
{
    const uint8_t *elf = kx_user_elf;
    uint64_t entry = *(const uint64_t *)(elf + 24), phoff = *(const uint64_t *)(elf + 32);
    uint16_t phnum = *(const uint16_t *)(elf + 56), phsz = *(const uint16_t *)(elf + 54), i;
    if (*(const uint32_t *)elf != 0x464c457fu)
        panic("user image is not ELF");
    for (i = 0; i < phnum; i++) {
        const uint8_t *ph = elf + phoff + (uint64_t)i * phsz;
        uint32_t type = *(const uint32_t *)ph, pf = *(const uint32_t *)(ph + 4);
        uint64_t off = *(const uint64_t *)(ph + 8), va = *(const uint64_t *)(ph + 16);
        uint64_t fsz = *(const uint64_t *)(ph + 32), msz = *(const uint64_t *)(ph + 40), p;
        if (type != 1)
            continue;
        if (va < U_IMAGE || va + msz > U_STACK_TOP - U_STACK_PAGES * PAGE)
            panic("user image outside its region");
        for (p = va & ~(PAGE - 1); p < va + msz; p += PAGE) {
            uint64_t f = boot_frame(), a;
            uint8_t *k = P2V(f);
            for (a = p; a < p + PAGE; a++)
                if (a >= va && a < va + fsz)
                    k[a - p] = elf[off + (a - va)];
            if (vm_ensure(t, p))
                panic("no pool pages for a task");
            vm_set(t, p, f, L4MM_R | ((pf & 2u) ? L4MM_W : 0u) | ((pf & 1u) ? L4MM_X : 0u), NULL);
            if (t->nboot_frames == MAX_BOOT_FRAMES)
                panic("user image too big");
            t->boot_frames[t->nboot_frames++] = f;
        }
    }
    return entry;
}

static void make_task(unsigned tid, const char *name, unsigned prio)
{
    struct thread *t = &threads[tid];
    uint64_t entry, f;
    unsigned i;
    t->tid = tid;
    t->name = name;
    t->prio = prio;
    if (vm_create(t))
        panic("no pool pages for a task");
    entry = load_image(t);
    for (i = 0; i <= U_STACK_PAGES; i++) { /* the UTCB, then the stack pages below it */
        uint64_t va = i == 0 ? U_UTCB : U_STACK_TOP - (uint64_t)i * PAGE;
        f = boot_frame();
        vm_set(t, va, f, L4MM_R | L4MM_W, NULL);
        t->boot_frames[t->nboot_frames++] = f;
        if (i == 0)
            t->utcb = P2V(f);
    }
    t->ctx.rip = entry;
    t->ctx.rsp = U_STACK_TOP;
    t->ctx.rdi = tid;
    t->ctx.cs = 0x23;
    t->ctx.ss = 0x1b;
    t->ctx.rflags = 0x002; /* interrupts stay off: this kernel has no timer */
    t->state = T_READY;
    kprintf("[boot] task %s (tid %u): own PML4 at 0x%lx, %u image/stack/UTCB frames\n", name, tid,
            V2P(t->pml4), t->nboot_frames);
}

/* Sigma0 owns every free frame: one idempotent root (vaddr == paddr) per maximal aligned
 * block of each free range. */
static void give_sigma0(void)
{
    struct utcb *u = threads[TID_SIGMA0].utcb;
    unsigned i, roots = 0;
    uint64_t frames = 0;
    l4mm_mapping *first = NULL, *again = NULL;
    for (i = 0; i < navail; i++) {
        uint64_t lo = avail[i].base, hi = avail[i].base + avail[i].size, a;
        if (lo < boot_end)
            lo = boot_end;
        if (hi > SIGMA0_CAP)
            hi = SIGMA0_CAP;
        lo = (lo + PAGE - 1) & ~(PAGE - 1);
        hi &= ~(PAGE - 1);
        if (lo >= hi || u->nranges == 32)
            continue;
        u->range[u->nranges][0] = lo;
        u->range[u->nranges][1] = hi - lo;
        u->nranges++;
        frames += (hi - lo) / PAGE;
        for (a = lo; a < hi;) {
            unsigned o = 12;
            l4mm_mapping *m;
            l4mm_status st;
            while (o < 30 && !(a & ((1ull << (o + 1)) - 1)) && a + (1ull << (o + 1)) <= hi)
                o++;
            st = l4mm_mapdb_root(&mapdb, TID_SIGMA0, a, a, o, L4MM_RWX, &m);
            if (st != L4MM_OK || !mm_add_root(a, o, m))
                panic("mapdb root");
            if (!first)
                first = m;
            roots++;
            a += 1ull << o;
        }
    }
    kprintf("[boot] sigma0 owns %lu free frames (%lu KiB) in %lu range(s): %u idempotent roots "
            "in the mapdb (vaddr == paddr, rwx)\n",
            frames, frames * 4, u->nranges, roots);
    if (first) {
        struct l4mm_mapping_info mi;
        l4mm_mapdb_info(first, &mi);
        if (l4mm_mapdb_root(&mapdb, TID_SIGMA0, mi.vaddr, mi.paddr, mi.order, L4MM_RWX, &again) !=
                L4MM_OK ||
            again != first)
            panic("root is not idempotent");
        kprintf("[boot] mapdb_root(sigma0, 0x%lx, order %u) again: same handle (idempotent)\n",
                mi.paddr, mi.order);
    }
}

void kmain(uint32_t magic, uint32_t mbi_phys)
{
    uint64_t kend = V2P(kx_kernel_end), dma;
    unsigned i;
    serial_init();
    kprintf("\nl4mm example kernel: x86-64, long mode, 4-level paging\n");
    cpu_init();
    if (magic != MB_BOOT_MAGIC)
        panic("not booted by a multiboot loader");
    inject(mbi_phys);
    read_mmap(mbi_phys);
    boot_next = (kend + PAGE - 1) & ~(PAGE - 1);
    boot_end = boot_next + BOOT_REGION;
    for (i = 0; i < navail; i++)
        if (avail[i].base <= boot_next && avail[i].base + avail[i].size >= boot_end)
            break;
    if (i == navail || boot_end > PHYS_LIMIT)
        panic("no room for the boot region after the kernel");
    kprintf("[boot] kernel image ends at 0x%lx; boot frames from [0x%lx, 0x%lx)\n", kend, boot_next,
            boot_end);

    mm_init();
    for (i = 0; i < BOOT_KPOOL_PAGES; i++)
        l4mm_kpool_give(&kpool, P2V(boot_frame()));
    kprintf("[boot] kernel pool: %u boot pages (reserve 8, low 16, high 32); mapdb nodes "
            "(%u bytes) come from an l4mm_kcache on it\n",
            BOOT_KPOOL_PAGES, L4MM_MAPDB_NODE_SIZE);
    dma = boot_next;
    for (i = 0; i < DMA_PAGES; i++)
        boot_frame();
    mm_dma_init(dma, DMA_PAGES * PAGE);

    make_task(TID_SIGMA0, "sigma0", 0);
    make_task(TID_A, "A", 1);
    make_task(TID_B, "B", 2);
    give_sigma0();
    mm_msgq_demo();
    kprintf("[boot] entering ring 3\n");
    sched();
}
