/*
 * buddy-regions: how a kernel or sigma0 builds its physical-memory and I/O-port allocators
 * from a firmware memory map with l4mm's buddy module.
 *
 *  - a DMA pool over [0, 16 MiB) for ISA-style devices,
 *  - a general pool over [16 MiB, 5 GiB) (above 4 GiB too: l4mm_addr_t is 64-bit),
 *  - an I/O-port pool over the 64 Ki x86 ports (unit_shift 0).
 * The memory map has holes and a reserved kernel image; only usable RAM is added. The
 * example checks every result and exits non-zero on any surprise (it runs under ctest).
 * The managed memory is never touched: this process does not even map it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <l4mm/buddy.h>

#define KiB        1024ull
#define MiB        (1024ull * KiB)
#define GiB        (1024ull * MiB)
#define PAGE_SHIFT 12u

struct region {
    uint64_t base, size;
    int usable;
};

/* A firmware (e820-like) map: holes at 640 KiB-1 MiB, 128-129 MiB, 3.5-4 GiB. */
static const struct region memmap[] = {
    { 0x0, 0x9f000, 1 },       /* low memory */
    { 0x9f000, 0x61000, 0 },   /* EBDA, VGA, BIOS */
    { 1 * MiB, 127 * MiB, 1 }, /* holds the kernel image */
    { 128 * MiB, 1 * MiB, 0 }, /* ACPI tables */
    { 129 * MiB, 3 * GiB + 383 * MiB, 1 },
    { 4 * GiB - 512 * MiB, 512 * MiB, 0 }, /* PCI hole */
    { 4 * GiB, 1 * GiB, 1 },               /* above 4 GiB */
};
static const uint64_t kernel_lo = 1 * MiB, kernel_hi = 5 * MiB + 3 * 4096; /* image + bss */

static int failures;

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            printf("FAILED: %s (line %d)\n", #c, __LINE__);                                        \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void *xalloc_meta(uint64_t base, uint64_t size, unsigned us, unsigned mo, size_t *msz)
{
    void *m;
    *msz = l4mm_buddy_meta_size(base, size, us, mo);
    m = *msz && *msz != SIZE_MAX ? aligned_alloc(8, (*msz + 7) & ~(size_t)7) : NULL;
    if (!m) {
        printf("no metadata\n");
        exit(1);
    }
    return m;
}

/* Add the usable parts of the memory map that fall inside [lo, hi), minus the kernel. */
static uint64_t add_usable(struct l4mm_buddy *b, uint64_t lo, uint64_t hi)
{
    uint64_t added = 0;
    for (size_t i = 0; i < sizeof memmap / sizeof memmap[0]; i++) {
        uint64_t s = memmap[i].base, e = memmap[i].base + memmap[i].size;
        if (!memmap[i].usable)
            continue;
        s = s < lo ? lo : s;
        e = e > hi ? hi : e;
        s = (s + 4095) & ~4095ull; /* only whole pages */
        e &= ~4095ull;
        if (s >= e)
            continue;
        CHECK(l4mm_buddy_add(b, s, e - s) == L4MM_OK);
        added += (e - s) >> PAGE_SHIFT;
        /* the kernel image was in a usable region: withdraw it again */
        if (kernel_lo < e && kernel_hi > s) {
            uint64_t ks = kernel_lo > s ? kernel_lo : s, ke = kernel_hi < e ? kernel_hi : e;
            CHECK(l4mm_buddy_take(b, ks, ke - ks) == L4MM_OK);
            added -= (ke - ks) >> PAGE_SHIFT;
        }
    }
    return added;
}

static void dma_pool(void)
{
    struct l4mm_buddy dma;
    struct l4mm_buddy_stats st;
    size_t msz;
    void *meta = xalloc_meta(0, 16 * MiB, PAGE_SHIFT, 10, &msz);
    uint64_t pages, got = 0, a;
    CHECK(l4mm_buddy_init(&dma, meta, msz, 0, 16 * MiB, PAGE_SHIFT, 10) == L4MM_OK);
    pages = add_usable(&dma, 0, 16 * MiB);
    l4mm_buddy_stats(&dma, &st);
    printf("dma pool: %llu pages usable below 16 MiB (%zu bytes of metadata)\n",
           (unsigned long long)pages, msz);
    CHECK(st.free_units == pages);
    /* the kernel image and the BIOS hole are never handed out */
    CHECK(l4mm_buddy_alloc_at(&dma, kernel_lo, 0) == L4MM_EBUSY);
    CHECK(l4mm_buddy_alloc_at(&dma, 0xa0000, 0) == L4MM_EBUSY);
    /* a 64 KiB ISA DMA buffer must not cross a 64 KiB boundary: natural alignment does it */
    CHECK(l4mm_buddy_alloc_in(&dma, 4, 0, 16 * MiB, &a) == L4MM_OK);
    CHECK(a % (64 * KiB) == 0 && a + 64 * KiB <= 16 * MiB);
    CHECK(!(a < kernel_hi && a + 64 * KiB > kernel_lo));
    printf("dma pool: 64 KiB ISA buffer at %#llx\n", (unsigned long long)a);
    CHECK(l4mm_buddy_free(&dma, a, 4) == L4MM_OK);
    /* drain it page by page: exactly the usable pages come out, none inside the kernel */
    while (l4mm_buddy_alloc(&dma, 0, &a) == L4MM_OK) {
        CHECK(!(a >= kernel_lo && a < kernel_hi));
        CHECK(!(a >= 0x9f000 && a < MiB));
        got++;
    }
    CHECK(got == pages);
    CHECK(l4mm_buddy_check(&dma) == L4MM_OK);
    free(meta);
}

static void general_pool(void)
{
    struct l4mm_buddy gp;
    struct l4mm_buddy_stats st;
    size_t msz;
    uint64_t lo = 16 * MiB, hi = 5 * GiB, pages, a, blocks[64];
    void *meta = xalloc_meta(lo, hi - lo, PAGE_SHIFT, 18, &msz);
    CHECK(l4mm_buddy_init(&gp, meta, msz, lo, hi - lo, PAGE_SHIFT, 18) == L4MM_OK);
    pages = add_usable(&gp, lo, hi);
    l4mm_buddy_stats(&gp, &st);
    printf("general pool: %llu pages (%.2f GiB), metadata %zu bytes = %.3f B/page, "
           "largest free order %d\n",
           (unsigned long long)pages, (double)(pages << PAGE_SHIFT) / (double)GiB, msz,
           (double)msz / (double)((hi - lo) >> PAGE_SHIFT), st.largest_free_order);
    CHECK(st.free_units == pages);
    CHECK(st.largest_free_order == 18); /* 1 GiB blocks, e.g. [4 GiB, 5 GiB) */
    /* a 32-bit device wants 2 MiB below 4 GiB */
    CHECK(l4mm_buddy_alloc_in(&gp, 9, 0, 4 * GiB, &a) == L4MM_OK);
    CHECK(a + 2 * MiB <= 4 * GiB && a % (2 * MiB) == 0);
    printf("general pool: 2 MiB below 4 GiB at %#llx\n", (unsigned long long)a);
    blocks[0] = a;
    /* sigma0-style: a task asks for exactly this frame; then again: busy */
    CHECK(l4mm_buddy_alloc_at(&gp, 4 * GiB + 0x1234000, 0) == L4MM_OK);
    CHECK(l4mm_buddy_alloc_at(&gp, 4 * GiB + 0x1234000, 0) == L4MM_EBUSY);
    CHECK(l4mm_buddy_alloc_at(&gp, 128 * MiB, 0) == L4MM_EBUSY); /* ACPI hole */
    /* ordinary allocations of every order up to 1 GiB */
    for (unsigned k = 1; k <= 18; k++) {
        CHECK(l4mm_buddy_alloc(&gp, k, &blocks[k]) == L4MM_OK);
        CHECK(blocks[k] % (4096ull << k) == 0);
    }
    CHECK(l4mm_buddy_free(&gp, blocks[4], 3) == L4MM_ENOENT); /* wrong order */
    for (unsigned k = 18; k >= 1; k--)
        CHECK(l4mm_buddy_free(&gp, blocks[k], k) == L4MM_OK);
    CHECK(l4mm_buddy_free(&gp, blocks[0], 9) == L4MM_OK);
    CHECK(l4mm_buddy_free(&gp, 4 * GiB + 0x1234000, 0) == L4MM_OK);
    CHECK(l4mm_buddy_free(&gp, 4 * GiB + 0x1234000, 0) == L4MM_ENOENT); /* double free */
    l4mm_buddy_stats(&gp, &st);
    CHECK(st.free_units == pages && st.allocated_units == 0);
    CHECK(l4mm_buddy_check(&gp) == L4MM_OK);
    free(meta);
}

static void io_ports(void)
{
    struct l4mm_buddy io;
    struct l4mm_buddy_stats st;
    size_t msz;
    uint64_t a;
    void *meta = xalloc_meta(0, 65536, 0, 16, &msz);
    CHECK(l4mm_buddy_init(&io, meta, msz, 0, 65536, 0, 16) == L4MM_OK);
    CHECK(l4mm_buddy_add(&io, 0, 65536) == L4MM_OK);
    /* the kernel keeps the PICs, the PIT and the keyboard controller */
    CHECK(l4mm_buddy_take(&io, 0x20, 2) == L4MM_OK);
    CHECK(l4mm_buddy_take(&io, 0xa0, 2) == L4MM_OK);
    CHECK(l4mm_buddy_take(&io, 0x40, 4) == L4MM_OK);
    CHECK(l4mm_buddy_take(&io, 0x60, 1) == L4MM_OK);
    CHECK(l4mm_buddy_take(&io, 0x64, 1) == L4MM_OK);
    /* a serial driver gets COM1 as an I/O flexpage of order 3 */
    CHECK(l4mm_buddy_alloc_at(&io, 0x3f8, 3) == L4MM_OK);
    CHECK(l4mm_buddy_alloc_at(&io, 0x3f8, 0) == L4MM_EBUSY);
    CHECK(l4mm_buddy_alloc_at(&io, 0x20, 1) == L4MM_EBUSY); /* kernel's */
    /* a PCI device's 256-port BAR anywhere */
    CHECK(l4mm_buddy_alloc(&io, 8, &a) == L4MM_OK);
    CHECK(a % 256 == 0);
    printf("io ports: COM1 at 0x3f8 (order 3), 256-port BAR at %#llx, metadata %zu bytes\n",
           (unsigned long long)a, msz);
    l4mm_buddy_stats(&io, &st);
    CHECK(st.allocated_units == 8 + 256 && st.reserved_units == 10);
    CHECK(l4mm_buddy_check(&io) == L4MM_OK);
    free(meta);
}

int main(void)
{
    dma_pool();
    general_pool();
    io_ports();
    printf("%s\n", failures ? "buddy-regions: FAILED" : "buddy-regions: all checks passed");
    return failures ? 1 : 0;
}
