/*
 * fuzz_buddy.c - libFuzzer harness: an op stream over a small buddy instance, checked
 * against a per-unit reference model after every operation.
 *
 * Input: byte 0 = geometry (unit shift, base kind), byte 1 = max_order, byte 2 = unit count;
 * then 4-byte records: op, order, arg1, arg2. A free whose arg2 has bit 2 set and bit 0
 * clear frees the last block allocated (alloc-free-alloc ping-pong); allocs must be best fit.
 * Aborts on any disagreement, on a failing l4mm_buddy_check(), or when an error changes the state.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <l4mm/buddy.h>

#define MAXU 200

enum { RES = 0, FREE = 1, ALLOC = 2 };

static struct {
    uint64_t xb, n;
    unsigned us, mo;
    unsigned char st[MAXU];
    unsigned char head[MAXU];
} md;

#define REQUIRE(c)                                                                                 \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static int in_range(uint64_t x, uint64_t cnt)
{
    return cnt > 0 && x >= md.xb && x - md.xb < md.n && cnt <= md.n - (x - md.xb);
}

static int all_are(uint64_t x, uint64_t cnt, unsigned char s)
{
    for (uint64_t i = 0; i < cnt; i++)
        if (md.st[x - md.xb + i] != s)
            return 0;
    return 1;
}

static void set_to(uint64_t x, uint64_t cnt, unsigned char s)
{
    for (uint64_t i = 0; i < cnt; i++)
        md.st[x - md.xb + i] = s;
}

static int free_block_at(uint64_t x, unsigned k)
{
    uint64_t sz = (uint64_t)1 << k;
    return (x & (sz - 1u)) == 0 && in_range(x, sz) && all_are(x, sz, FREE);
}

static int exists(unsigned k, uint64_t lo, uint64_t hi)
{
    for (uint64_t i = 0; i < md.n; i++) {
        uint64_t x = md.xb + i;
        if (x >= lo && x <= hi && hi - x >= ((uint64_t)1 << k) - 1u && free_block_at(x, k))
            return 1;
    }
    return 0;
}

/* Best fit for order k: the lowest of the canonical free blocks of the smallest order >= k. */
static uint64_t best_fit(unsigned k)
{
    uint64_t best = UINT64_MAX;
    int bo = 64;
    for (uint64_t i = 0; i < md.n;) {
        int c = -1;
        while ((unsigned)(c + 1) <= md.mo && c + 1 < 40 &&
               free_block_at(md.xb + i, (unsigned)(c + 1)))
            c++;
        if (c < 0) {
            i++;
            continue;
        }
        if (c >= (int)k && c < bo) {
            bo = c;
            best = md.xb + i;
        }
        i += (uint64_t)1 << c;
    }
    return best;
}

static void compare(const struct l4mm_buddy *b)
{
    struct l4mm_buddy_stats s;
    uint64_t fu = 0, au = 0, blocks[64] = { 0 };
    int largest = -1;
    l4mm_buddy_stats(b, &s);
    for (uint64_t i = 0; i < md.n; i++) {
        int us = -1;
        fu += md.st[i] == FREE;
        au += md.st[i] == ALLOC;
        REQUIRE(l4mm_buddy_unit_state(b, (md.xb + i) << md.us, &us) == L4MM_OK);
        REQUIRE(us == md.st[i]);
    }
    for (uint64_t i = 0; i < md.n;) {
        int k = -1;
        while ((unsigned)(k + 1) <= md.mo && k + 1 < 40 &&
               free_block_at(md.xb + i, (unsigned)(k + 1)))
            k++;
        if (k < 0) {
            i++;
            continue;
        }
        blocks[k]++;
        largest = k > largest ? k : largest;
        i += (uint64_t)1 << k;
    }
    REQUIRE(s.free_units == fu && s.allocated_units == au && s.reserved_units == md.n - fu - au &&
            s.largest_free_order == largest);
    for (unsigned k = 0; k < 64; k++)
        REQUIRE(s.free_blocks[k] == blocks[k]);
    REQUIRE(l4mm_buddy_check(b) == L4MM_OK);
}

static l4mm_status block_status(uint64_t x, unsigned k, l4mm_addr_t addr)
{
    if (k > md.mo || (addr & ((((uint64_t)1) << (md.us + k)) - 1u)) ||
        !in_range(x, (uint64_t)1 << k))
        return L4MM_EINVAL;
    return L4MM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned shifts[4] = { 0, 12, 3, 21 };
    struct l4mm_buddy b, sb;
    uint64_t *meta, *sm;
    uint64_t last = UINT64_MAX; /* unit of the last block allocated */
    size_t msz;
    if (size < 3)
        return 0;
    memset(&md, 0, sizeof md);
    md.us = shifts[data[0] & 3u];
    md.mo = data[1] % 48u;
    if (md.mo + md.us > 63u)
        md.mo = 63u - md.us;
    md.n = 1u + data[2] % MAXU;
    switch ((data[0] >> 2) & 3u) {
    case 0: md.xb = 0; break;
    case 1: md.xb = data[0] >> 4; break;
    case 2: md.xb = (0x100000000ull >> md.us) + (data[0] >> 4) * 3u; break;
    default: md.xb = (UINT64_MAX >> md.us) - md.n - (data[0] >> 4); break;
    }
    msz = l4mm_buddy_meta_size(md.xb << md.us, md.n << md.us, md.us, md.mo);
    REQUIRE(msz > 0 && msz != SIZE_MAX);
    meta = malloc(msz);
    sm = malloc(msz);
    REQUIRE(meta && sm);
    REQUIRE(l4mm_buddy_init(&b, meta, msz, md.xb << md.us, md.n << md.us, md.us, md.mo) == L4MM_OK);
    for (size_t p = 3; p + 4 <= size; p += 4) {
        unsigned op = data[p] % 6u, k = data[p + 1] % (md.mo + 3u);
        uint64_t x = md.xb + data[p + 2] - 8u + (uint64_t)(data[p + 2] >= 250 ? 300 : 0);
        uint64_t cnt = data[p + 3];
        l4mm_addr_t addr = x << md.us, out = 0;
        l4mm_status got, want;
        memcpy(sm, meta, msz);
        memcpy(&sb, &b, sizeof b);
        if (k >= 60)
            k = 60;
        switch (op) {
        case 0: /* add */
        case 1: /* take */
            want = !in_range(x, cnt) || (x << md.us) >> md.us != x ? L4MM_EINVAL
                   : all_are(x, cnt, op == 0 ? RES : FREE)         ? L4MM_OK
                                                                   : L4MM_EBUSY;
            got = op == 0 ? l4mm_buddy_add(&b, addr, cnt << md.us)
                          : l4mm_buddy_take(&b, addr, cnt << md.us);
            REQUIRE(got == want);
            if (got == L4MM_OK)
                set_to(x, cnt, op == 0 ? FREE : RES);
            break;
        case 2: /* alloc */
            x = k <= md.mo ? best_fit(k) : UINT64_MAX;
            got = l4mm_buddy_alloc(&b, k, &out);
            want = k > md.mo                             ? L4MM_EINVAL
                   : exists(k, md.xb, md.xb + md.n - 1u) ? L4MM_OK
                                                         : L4MM_ENOMEM;
            REQUIRE(got == want);
            if (got == L4MM_OK) {
                REQUIRE(out >> md.us == x); /* best fit */
                REQUIRE((x << md.us) == out && free_block_at(x, k));
                set_to(x, (uint64_t)1 << k, ALLOC);
                md.head[x - md.xb] = (unsigned char)(k + 1u);
                last = x;
            }
            break;
        case 3: { /* alloc_in [addr, hi_addr), addresses may wrap: compare as addresses */
            uint64_t hi = x + cnt, hia = hi << md.us;
            got = l4mm_buddy_alloc_in(&b, k, addr, hia, &out);
            want = k > md.mo || addr >= hia                        ? L4MM_EINVAL
                   : exists(k, addr >> md.us, (hia >> md.us) - 1u) ? L4MM_OK
                                                                   : L4MM_ENOMEM;
            hi = hia >> md.us;
            REQUIRE(got == want);
            if (got == L4MM_OK) {
                x = out >> md.us;
                REQUIRE(x >= addr >> md.us && free_block_at(x, k));
                REQUIRE(x + ((uint64_t)1 << k) <= hi);
                set_to(x, (uint64_t)1 << k, ALLOC);
                md.head[x - md.xb] = (unsigned char)(k + 1u);
                last = x;
            }
            break;
        }
        case 4: /* alloc_at */
            want = block_status(x, k, addr);
            if (want == L4MM_OK && !all_are(x, (uint64_t)1 << k, FREE))
                want = L4MM_EBUSY;
            got = l4mm_buddy_alloc_at(&b, addr, k);
            REQUIRE(got == want);
            if (got == L4MM_OK) {
                set_to(x, (uint64_t)1 << k, ALLOC);
                md.head[x - md.xb] = (unsigned char)(k + 1u);
                last = x;
            }
            break;
        default: /* free */
            if ((cnt & 5u) == 4u && last != UINT64_MAX && md.head[last - md.xb]) {
                /* the last block allocated, with its order: alloc-free-alloc ping-pong */
                x = last;
                addr = x << md.us;
                k = md.head[x - md.xb] - 1u;
            } else if (cnt & 1u) { /* steer to a live block's head, keep the fuzzed order */
                for (uint64_t i = 0; i < md.n; i++)
                    if (md.head[(i + cnt) % md.n]) {
                        x = md.xb + (i + cnt) % md.n;
                        addr = x << md.us;
                        if (cnt & 2u)
                            k = md.head[x - md.xb] - 1u;
                        break;
                    }
            }
            want = block_status(x, k, addr);
            if (want == L4MM_OK && md.head[x - md.xb] != k + 1u)
                want = L4MM_ENOENT;
            got = l4mm_buddy_free(&b, addr, k);
            REQUIRE(got == want);
            if (got == L4MM_OK) {
                set_to(x, (uint64_t)1 << k, FREE);
                md.head[x - md.xb] = 0;
            }
            break;
        }
        if (got != L4MM_OK)
            REQUIRE(memcmp(sm, meta, msz) == 0 && memcmp(&sb, &b, sizeof b) == 0);
        compare(&b);
    }
    free(meta);
    free(sm);
    return 0;
}
