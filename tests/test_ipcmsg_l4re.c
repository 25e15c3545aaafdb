/*
 * test_ipcmsg_l4re.c - Fiasco.OC / L4Re codecs (fpage, send item, tag) and the message
 * parsers of both formats.
 *
 * Expected words are computed by hand from the cited layouts (repository
 * kernkonzept/l4re-core unless stated), never copied from l4mm's output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "test_ipcmsg_util.h"

static void check_fpage(struct l4mm_fpage f, l4mm_status st64, uint64_t w64, l4mm_status st32,
                        uint32_t w32)
{
    uint64_t w = 0xa5a5a5a5a5a5a5a5ULL;
    uint32_t v = 0xa5a5a5a5u;
    struct l4mm_fpage back;
    assert_int_equal(l4mm_l4re_fpage_encode(&f, &w), st64);
    if (st64 == L4MM_OK) {
        assert_int_equal(w, w64);
        assert_int_equal(l4mm_l4re_fpage_decode(w, &back), L4MM_OK);
        assert_true(fpage_eq(&back, &f));
    } else {
        assert_int_equal(w, 0xa5a5a5a5a5a5a5a5ULL);
    }
    assert_int_equal(l4mm_l4re_fpage_encode_32(&f, &v), st32);
    if (st32 == L4MM_OK) {
        assert_int_equal(v, w32);
        assert_int_equal(l4mm_l4re_fpage_decode_32(v, &back), L4MM_OK);
        assert_true(fpage_eq(&back, &f));
    } else {
        assert_int_equal(v, 0xa5a5a5a5u);
    }
}

/* Layout: l4sys/include/__l4_fpage.h, enum L4_fpage_consts: rights shift 0 (4 bits), type
 * shift 4 (2 bits), size shift 6 (6 bits), address shift 12; enum L4_fpage_type: special 0,
 * memory 1, io 2, obj 3; l4_iofpage() shifts the port by 12 and sets L4_FPAGE_RW;
 * l4_obj_fpage() takes a capability selector (index << L4_CAP_SHIFT = 12);
 * l4_fpage_all() = special, L4_WHOLE_ADDRESS_SPACE (63); l4_fpage_invalid() = 0. */
static void test_l4re_fpage_vectors(void **state)
{
    struct l4mm_fpage f = { L4MM_FPAGE_MEM, 0, 0, 0, false, true };
    (void)state;
    /* l4_fpage(0x12345000, 12, L4_FPAGE_RW) */
    check_fpage(fp(L4MM_FPAGE_MEM, 0x12345000u, 12, 6), L4MM_OK, 0x12345316u, L4MM_OK, 0x12345316u);
    /* l4_fpage(0x40000000, 21, L4_FPAGE_RWX) */
    check_fpage(fp(L4MM_FPAGE_MEM, 0x40000000u, 21, 7), L4MM_OK, 0x40000557u, L4MM_OK, 0x40000557u);
    /* l4_iofpage(0x3f8, 3) */
    check_fpage(fp(L4MM_FPAGE_IO, 0x3f8u, 3, 6), L4MM_OK, 0x3f80e6u, L4MM_OK, 0x3f80e6u);
    /* whole I/O space, L4_WHOLE_IOADDRESS_SPACE = 16 */
    check_fpage(fp(L4MM_FPAGE_IO, 0, 16, 6), L4MM_OK, 0x426u, L4MM_OK, 0x426u);
    /* l4_obj_fpage(5 << 12, 0, L4_CAP_FPAGE_RWSD) */
    check_fpage(fp(L4MM_FPAGE_OBJ, 5, 0, 0xf), L4MM_OK, 0x503fu, L4MM_OK, 0x503fu);
    /* 16 capabilities at index 32, L4_CAP_FPAGE_RO */
    check_fpage(fp(L4MM_FPAGE_OBJ, 32, 4, 4), L4MM_OK, 0x20134u, L4MM_OK, 0x20134u);
    /* l4_fpage_all() and with rights (unmap of all spaces) */
    check_fpage(f, L4MM_OK, 0xfc0u, L4MM_OK, 0xfc0u);
    f.rights = 0xf;
    check_fpage(f, L4MM_OK, 0xfcfu, L4MM_OK, 0xfcfu);
    /* l4_fpage_invalid() */
    f.complete = false;
    f.nil = true;
    f.rights = 0;
    check_fpage(f, L4MM_OK, 0, L4MM_OK, 0);
    /* 64-bit only */
    check_fpage(fp(L4MM_FPAGE_MEM, 0xffff800000000000ULL, 47, 4), L4MM_OK, 0xffff800000000bd4ULL,
                L4MM_EINVAL, 0);
    check_fpage(fp(L4MM_FPAGE_OBJ, 0xfffffu, 0, 4), L4MM_OK, 0xfffff034u, L4MM_OK, 0xfffff034u);
    check_fpage(fp(L4MM_FPAGE_OBJ, 0x100000u, 0, 4), L4MM_OK, 0x100000034ULL, L4MM_EINVAL, 0);
}

static void test_l4re_fpage_encode_refuses_inexpressible(void **state)
{
    struct l4mm_fpage f = { L4MM_FPAGE_MEM, 0x1000, 0, 0, false, true };
    (void)state;
    check_fpage(f, L4MM_EINVAL, 0, L4MM_EINVAL, 0); /* all-spaces with a base */
    f.base = 0;
    f.kind = L4MM_FPAGE_OBJ;
    check_fpage(f, L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    f.kind = L4MM_FPAGE_MEM;
    f.nil = true;
    check_fpage(f, L4MM_EINVAL, 0, L4MM_EINVAL, 0); /* both */
    f.complete = false;
    f.rights = 16;
    check_fpage(f, L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    check_fpage(fp(L4MM_FPAGE_MEM, 0x12345800u, 11, 0), L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    check_fpage(fp(L4MM_FPAGE_MEM, 0x12346000u, 14, 0), L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    check_fpage(fp(L4MM_FPAGE_MEM, 0x1000u, 12, 8), L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    check_fpage(fp(L4MM_FPAGE_MEM, 0, 64, 0), L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    check_fpage(fp(L4MM_FPAGE_MEM, 0, 33, 0), L4MM_OK, 0x850u, L4MM_EINVAL, 0);
    check_fpage(fp(L4MM_FPAGE_IO, 0x10000u, 0, 0), L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    check_fpage(fp(L4MM_FPAGE_IO, 0, 17, 0), L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    check_fpage(fp(L4MM_FPAGE_IO, 0x3f9u, 3, 0), L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    check_fpage(fp(L4MM_FPAGE_IO, 0x3f8u, 3, 8), L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    check_fpage(fp(L4MM_FPAGE_OBJ, 3, 1, 0), L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    check_fpage(fp(L4MM_FPAGE_OBJ, 0, 21, 0), L4MM_OK, 0x570u, L4MM_EINVAL, 0);
    check_fpage(fp(L4MM_FPAGE_OBJ, 0, 53, 0), L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    check_fpage(fp((enum l4mm_fpage_kind)9, 0, 12, 0), L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    assert_int_equal(l4mm_l4re_fpage_encode(NULL, &(uint64_t){ 0 }), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_fpage_encode_32(&f, NULL), L4MM_EINVAL);
}

static void test_l4re_fpage_decode_refuses_malformed(void **state)
{
    static const uint64_t bad[] = {
        0x140u,      /* special type, size 5: neither invalid nor all-spaces */
        0x1000u,     /* special type with a page */
        0x12345356u, /* memory with rights bit 3 */
        0x12345290u, /* memory order 10 < 12 */
        0x12346390u, /* memory 0x12346000 not 16 KiB aligned */
        0x3f90e6u,   /* I/O port 0x3f9 not 8-aligned */
        0x460u,      /* I/O order 17 */
        0x10000020u, /* I/O port 0x10000 */
        0x3078u,     /* object index 3 with order 1 */
    };
    struct l4mm_fpage out = fp(L4MM_FPAGE_IO, 1, 0, 1), keep = out;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(l4mm_l4re_fpage_decode(bad[i], &out), L4MM_EDECODE);
        assert_int_equal(l4mm_l4re_fpage_decode_32((uint32_t)bad[i], &out), L4MM_EDECODE);
        assert_true(fpage_eq(&out, &keep));
    }
    assert_int_equal(l4mm_l4re_fpage_decode_32(0x850u, &out), L4MM_EDECODE); /* order 33 */
    assert_int_equal(l4mm_l4re_fpage_decode(0x850u, &out), L4MM_OK);
    assert_int_equal(l4mm_l4re_fpage_decode(0, NULL), L4MM_EINVAL);
}

/* Layout: l4sys/include/__l4_fpage.h l4_map_control(): snd_base & L4_FPAGE_CONTROL_MASK
 * (bits 12+) | cache << 4 | L4_ITEM_MAP | grant; l4sys/include/consts.h: L4_ITEM_MAP = 8,
 * L4_ITEM_CONT = 1, L4_MAP_ITEM_GRANT = 2, L4_RCV_ITEM_LOCAL_ID = 4 (receive side only);
 * cacheability values L4_FPAGE_CACHEABLE 3, BUFFERABLE 5, UNCACHEABLE 1. */
static void test_l4re_item_vectors(void **state)
{
    struct l4mm_map_item it = { fp(L4MM_FPAGE_MEM, 0x12345000u, 12, 6), 0x400000u, false, false,
                                L4MM_L4RE_ATTR_CACHEABLE };
    struct l4mm_map_item back;
    uint64_t w[2];
    uint32_t v[2];
    (void)state;
    /* l4_map_control(0x400000, L4_FPAGE_CACHEABLE, L4_MAP_ITEM_MAP) */
    assert_int_equal(l4mm_l4re_item_encode(&it, w), L4MM_OK);
    assert_int_equal(w[0], 0x400038u);
    assert_int_equal(w[1], 0x12345316u);
    assert_int_equal(l4mm_l4re_item_decode(w, &back), L4MM_OK);
    assert_true(item_eq(&back, &it));
    assert_int_equal(l4mm_l4re_item_encode_32(&it, v), L4MM_OK);
    assert_int_equal(v[0], 0x400038u);
    assert_int_equal(l4mm_l4re_item_decode_32(v, &back), L4MM_OK);
    assert_true(item_eq(&back, &it));

    /* grant + compound (l4_sndfpage_add uses L4_ITEM_MAP | L4_ITEM_CONT) */
    it.grant = true;
    it.more = true;
    it.attr = L4MM_L4RE_ATTR_BUFFERABLE;
    assert_int_equal(l4mm_l4re_item_encode(&it, w), L4MM_OK);
    assert_int_equal(w[0], 0x40005bu);
    assert_int_equal(l4mm_l4re_item_decode(w, &back), L4MM_OK);
    assert_true(item_eq(&back, &it));

    /* capability item: l4_map_obj_control(0, 0) = L4_ITEM_MAP with an obj fpage; the hot
     * spot of an object item counts capabilities (here index 7 -> 7 << 12) */
    it = (struct l4mm_map_item){ fp(L4MM_FPAGE_OBJ, 5, 0, 0xf), 7, false, false, 0 };
    assert_int_equal(l4mm_l4re_item_encode(&it, w), L4MM_OK);
    assert_int_equal(w[0], 0x7008u);
    assert_int_equal(w[1], 0x503fu);
    assert_int_equal(l4mm_l4re_item_decode(w, &back), L4MM_OK);
    assert_true(item_eq(&back, &it));
    /* object control bits (L4_FPAGE_C_NO_REF_CNT 0x10 ..) live in the same attr nibble */
    it.attr = 0x1;
    assert_int_equal(l4mm_l4re_item_encode_32(&it, v), L4MM_OK);
    assert_int_equal(v[0], 0x7018u);
}

static void test_l4re_item_errors(void **state)
{
    struct l4mm_map_item it = { fp(L4MM_FPAGE_MEM, 0x12345000u, 12, 6), 0x400800u, false, false,
                                0 };
    struct l4mm_map_item out, keep;
    uint64_t w[2] = { 7, 7 };
    (void)state;
    assert_int_equal(l4mm_l4re_item_encode(&it, w), L4MM_EINVAL); /* hot spot not 4K */
    it.snd_base = 0;
    it.attr = 16;
    assert_int_equal(l4mm_l4re_item_encode(&it, w), L4MM_EINVAL);
    it.attr = 0;
    it.fpage.order = 11;
    assert_int_equal(l4mm_l4re_item_encode(&it, w), L4MM_EINVAL);
    assert_int_equal(w[0], 7u);
    it = (struct l4mm_map_item){ fp(L4MM_FPAGE_OBJ, 5, 0, 0xf), 0x100000u, false, false, 0 };
    assert_int_equal(l4mm_l4re_item_encode_32(&it, (uint32_t[2]){ 0 }), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_item_encode(NULL, w), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_item_encode(&it, NULL), L4MM_EINVAL);

    memset(&out, 0x6b, sizeof out);
    keep = out;
    static const uint64_t bad[][2] = { { 0x0, 0x12345316u },   /* not a map item */
                                       { 0xc, 0x12345316u },   /* receive-only local-id bit */
                                       { 0x108, 0x12345316u }, /* bits 8-11 */
                                       { 0x8, 0x140u } };      /* bad fpage */
    for (size_t i = 0; i < 4; i++) {
        uint32_t b32[2] = { (uint32_t)bad[i][0], (uint32_t)bad[i][1] };
        assert_int_equal(l4mm_l4re_item_decode(bad[i], &out), L4MM_EDECODE);
        assert_int_equal(l4mm_l4re_item_decode_32(b32, &out), L4MM_EDECODE);
        assert_memory_equal(&out, &keep, sizeof out);
    }
    assert_int_equal(l4mm_l4re_item_decode(NULL, &out), L4MM_EINVAL);
}

/* Layout: l4sys/include/types.h l4_msgtag(): label << 16 | words & 0x3f | (items & 0x3f) << 6
 * | flags & 0xf000; L4_MSGTAG_ERROR 0x8000; L4_PROTO_SIGMA0 = -6; ARCH-amd64/utcb.h and
 * ARCH-x86/utcb.h: L4_UTCB_GENERIC_DATA_SIZE = 63 on both. */
static void test_l4re_tag_vectors(void **state)
{
    struct l4mm_msgtag t = { L4MM_L4RE_PROTO_SIGMA0, 2, 0, 0 }, back;
    uint64_t w = 0, again = 0;
    uint32_t v = 0;
    (void)state;
    assert_int_equal(l4mm_l4re_tag_encode(&t, &w), L4MM_OK);
    assert_int_equal(w, 0xfffffffffffa0002ULL);
    assert_int_equal(l4mm_l4re_tag_encode_32(&t, &v), L4MM_OK);
    assert_int_equal(v, 0xfffa0002u);
    assert_int_equal(l4mm_l4re_tag_decode_32(v, &back), L4MM_OK);
    assert_int_equal(back.label, -6);

    t = (struct l4mm_msgtag){ 0x42, 1, 31, L4MM_TAG_FLAG_ERROR }; /* 1 + 2*31 = 63 MRs */
    assert_int_equal(l4mm_l4re_tag_encode(&t, &w), L4MM_OK);
    assert_int_equal(w, 0x4287c1u);
    assert_int_equal(l4mm_l4re_tag_decode(w, &back), L4MM_OK);
    assert_true(back.label == 0x42 && back.untyped == 1u && back.typed == 31u &&
                back.flags == L4MM_TAG_FLAG_ERROR);
    assert_int_equal(l4mm_l4re_tag_encode(&back, &again), L4MM_OK);
    assert_int_equal(again, w);

    t.untyped = 2; /* 2 + 62 = 64 > 63 */
    assert_int_equal(l4mm_l4re_tag_encode(&t, &w), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_tag_decode(0x7c2u, &back), L4MM_EDECODE);
    assert_int_equal(l4mm_l4re_tag_decode_32(0x7c2u, &back), L4MM_EDECODE);
    t = (struct l4mm_msgtag){ 40000, 0, 0, 0 };
    assert_int_equal(l4mm_l4re_tag_encode_32(&t, &v), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_tag_encode(&t, &w), L4MM_OK);
    assert_int_equal(w, 0x9c400000u);
    t.flags = 16;
    assert_int_equal(l4mm_l4re_tag_encode(&t, &w), L4MM_EINVAL);
    t = (struct l4mm_msgtag){ 0, 64, 0, 0 };
    assert_int_equal(l4mm_l4re_tag_encode(&t, &w), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_tag_decode(0, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_tag_encode(NULL, &w), L4MM_EINVAL);
}

static void test_l4re_random_roundtrip(void **state)
{
    uint64_t s = 0x13198a2e03707344ULL;
    unsigned ok = 0;
    (void)state;
    for (unsigned i = 0; i < 300000u; i++) {
        struct l4mm_fpage f, g;
        struct l4mm_map_item it, it2;
        struct l4mm_msgtag t;
        uint64_t w, w2, iw[2], iw2[2];
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        w = s >> ((s & 3u) * 16u); /* vary the magnitude of the base */
        if (l4mm_l4re_fpage_decode(w, &f) == L4MM_OK) {
            ok++;
            assert_int_equal(l4mm_l4re_fpage_encode(&f, &w2), L4MM_OK);
            assert_int_equal(w2, w);
            assert_int_equal(l4mm_l4re_fpage_decode(w2, &g), L4MM_OK);
            assert_true(fpage_eq(&f, &g));
        }
        iw[0] = (s << 3) & ~(uint64_t)0xf04;
        iw[1] = w;
        if (l4mm_l4re_item_decode(iw, &it) == L4MM_OK) {
            assert_int_equal(l4mm_l4re_item_encode(&it, iw2), L4MM_OK);
            assert_int_equal(l4mm_l4re_item_decode(iw2, &it2), L4MM_OK);
            assert_true(item_eq(&it, &it2));
        }
        if (l4mm_l4re_tag_decode(s, &t) == L4MM_OK) {
            assert_int_equal(l4mm_l4re_tag_encode(&t, &w2), L4MM_OK);
            assert_int_equal(w2, s);
        }
    }
    assert_true(ok > 1000u);
}

/* ---- parsers --------------------------------------------------------------------------- */

static void test_x2_parse_map_and_grant_items(void **state)
{
    /* MR0: u = 2, t = 4, label 0x55; MR1-2 untyped; MR3-6 a map and a grant item */
    const uint64_t mr[7] = { 0x550102u,   0x1111,    0x2222,     0x400009u,
                             0x123450c6u, 0x80000au, 0x03f80c26u };
    struct l4mm_msg m;
    (void)state;
    assert_int_equal(l4mm_x2_msg_parse(mr, 7, &m), L4MM_OK);
    assert_int_equal(m.tag.label, 0x55);
    assert_int_equal(m.tag.untyped, 2u);
    assert_int_equal(m.tag.typed, 4u);
    assert_ptr_equal(m.untyped, &mr[1]);
    assert_null(m.untyped_32);
    assert_int_equal(m.untyped[1], 0x2222u);
    assert_int_equal(m.n_items, 2u);
    assert_true(!m.items[0].grant && m.items[0].more && m.items[0].snd_base == 0x400000u);
    assert_true(m.items[0].fpage.base == 0x12345000u && m.items[0].fpage.order == 12u);
    assert_true(m.items[1].grant && !m.items[1].more && m.items[1].snd_base == 0x800000u);
    assert_true(m.items[1].fpage.kind == L4MM_FPAGE_IO && m.items[1].fpage.base == 0x3f8u);
    /* extra words beyond the message are ignored */
    assert_int_equal(l4mm_x2_msg_parse(mr, 7, &m), L4MM_OK);

    const uint32_t mr32[7] = { 0x550102u,   0x1111,    0x2222,     0x400009u,
                               0x123450c6u, 0x80000au, 0x03f80c26u };
    assert_int_equal(l4mm_x2_msg_parse_32(mr32, 7, &m), L4MM_OK);
    assert_ptr_equal(m.untyped_32, &mr32[1]);
    assert_null(m.untyped);
    assert_int_equal(m.n_items, 2u);
    assert_true(m.items[1].grant);
}

static void expect_parse_fail(const uint64_t *mr, size_t n, bool l4re, l4mm_status want)
{
    struct l4mm_msg m, keep;
    memset(&m, 0xe7, sizeof m);
    memcpy(&keep, &m, sizeof m);
    if (l4re)
        assert_int_equal(l4mm_l4re_msg_parse(mr, n, &m), want);
    else
        assert_int_equal(l4mm_x2_msg_parse(mr, n, &m), want);
    assert_memory_equal(&m, &keep, sizeof m); /* refused: out untouched */
}

static void test_x2_parse_refuses_malformed(void **state)
{
    uint64_t mr[64];
    (void)state;
    for (size_t i = 0; i < 64; i++)
        mr[i] = 0x8u;
    mr[0] = 0x102u;                                /* u = 2, t = 4 */
    expect_parse_fail(mr, 6, false, L4MM_EDECODE); /* message needs 7 words */
    expect_parse_fail(mr, 0, false, L4MM_EDECODE); /* no tag */
    mr[0] = 0x0c2u;                                /* u = 2, t = 3: truncated item */
    expect_parse_fail(mr, 64, false, L4MM_EDECODE);
    mr[0] = 0x81fu; /* u = 31, t = 32 (63 words): 16 map items of the nilpage */
    for (size_t i = 32; i < 64; i += 2)
        mr[i + 1] = 0;
    {
        struct l4mm_msg m;
        assert_int_equal(l4mm_x2_msg_parse(mr, 64, &m), L4MM_OK);
        assert_int_equal(m.n_items, 16u);
        expect_parse_fail(mr, 63, false, L4MM_EDECODE); /* one word short */
    }
    mr[0] = 0x100u; /* u = 0, t = 4 */
    mr[1] = 0x0u;   /* string item */
    expect_parse_fail(mr, 5, false, L4MM_EDECODE);
    mr[1] = 0xcu; /* ctrlxfer item */
    expect_parse_fail(mr, 5, false, L4MM_EDECODE);
    mr[1] = 0x8u;
    mr[2] = 0x0u;
    mr[3] = 0x8u;
    mr[4] = 0x123458c0u; /* second item's fpage has a stray base bit */
    expect_parse_fail(mr, 5, false, L4MM_EDECODE);
    mr[0] = 0xfc0u; /* t = 63 > 64 MRs with the tag? u + t = 63 ok but odd: truncated */
    expect_parse_fail(mr, 64, false, L4MM_EDECODE);
    mr[0] = 0x1000u | 0x7a8u; /* u + t > 63 */
    expect_parse_fail(mr, 64, false, L4MM_EDECODE);
    assert_int_equal(l4mm_x2_msg_parse(NULL, 3, &(struct l4mm_msg){ 0 }), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_msg_parse(mr, 3, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_msg_parse_32(NULL, 3, &(struct l4mm_msg){ 0 }), L4MM_EINVAL);
}

/* The parser must never read mr[n_mr]: place the message at the very end of an array and
 * poison the word after the claimed length (ASan builds would trap on a real overrun). */
static void test_parse_never_reads_past_n_mr(void **state)
{
    uint64_t buf[8] = { 0 };
    uint64_t *mr = &buf[8 - 3];
    struct l4mm_msg m;
    (void)state;
    mr[0] = 0x80u; /* t = 2 */
    mr[1] = 0x8u;
    mr[2] = 0x0u;
    assert_int_equal(l4mm_x2_msg_parse(mr, 3, &m), L4MM_OK);
    assert_int_equal(m.n_items, 1u);
    assert_true(m.items[0].fpage.nil);
    mr[0] = 0x100u; /* t = 4 claims words that are not there */
    assert_int_equal(l4mm_x2_msg_parse(mr, 3, &m), L4MM_EDECODE);
    mr[0] = 0x2u; /* L4Re: 2 words */
    assert_int_equal(l4mm_l4re_msg_parse(mr, 3, &m), L4MM_OK);
    mr[0] = 0x40u; /* L4Re: 1 item = 2 words + tag = 3 */
    mr[1] = 0x8u;
    assert_int_equal(l4mm_l4re_msg_parse(mr, 3, &m), L4MM_OK);
    mr[0] = 0x41u;
    assert_int_equal(l4mm_l4re_msg_parse(mr, 3, &m), L4MM_EDECODE);
}

static void test_l4re_parse(void **state)
{
    /* tag: label -6 (sigma0), words 1, items 2 */
    const uint64_t mr[6] = {
        0xfffffffffffa0081ULL, 0x77, 0x400039u, 0x12345316u, 0x7008u, 0x503fu
    };
    const uint32_t mr32[6] = { 0xfffa0081u, 0x77, 0x400039u, 0x12345316u, 0x7008u, 0x503fu };
    uint64_t bad[6];
    struct l4mm_msg m;
    (void)state;
    assert_int_equal(l4mm_l4re_msg_parse(mr, 6, &m), L4MM_OK);
    assert_int_equal(m.tag.label, L4MM_L4RE_PROTO_SIGMA0);
    assert_ptr_equal(m.untyped, &mr[1]);
    assert_int_equal(m.n_items, 2u);
    assert_true(m.items[0].more && m.items[0].attr == L4MM_L4RE_ATTR_CACHEABLE);
    assert_true(m.items[1].fpage.kind == L4MM_FPAGE_OBJ && m.items[1].snd_base == 7u);
    assert_int_equal(l4mm_l4re_msg_parse_32(mr32, 6, &m), L4MM_OK);
    assert_ptr_equal(m.untyped_32, &mr32[1]);
    assert_int_equal(m.n_items, 2u);

    expect_parse_fail(mr, 5, true, L4MM_EDECODE); /* truncated second item */
    memcpy(bad, mr, sizeof bad);
    bad[4] = 0x7000u; /* item without L4_ITEM_MAP: unknown type */
    expect_parse_fail(bad, 6, true, L4MM_EDECODE);
    bad[4] = 0x7008u;
    bad[5] = 0x140u; /* bad fpage */
    expect_parse_fail(bad, 6, true, L4MM_EDECODE);
    bad[0] = 0x7c2u; /* 2 + 62 > 63 MRs */
    expect_parse_fail(bad, 6, true, L4MM_EDECODE);
    expect_parse_fail(mr, 0, true, L4MM_EDECODE);
    assert_int_equal(l4mm_l4re_msg_parse(NULL, 6, &m), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_msg_parse_32(mr32, 6, NULL), L4MM_EINVAL);
}

static void test_parse_full_message_of_31_items(void **state)
{
    uint64_t mr[64];
    struct l4mm_msg m;
    (void)state;
    mr[0] = 0x7c1u; /* L4Re: 1 word + 31 items = 63 MRs */
    mr[1] = 0;
    for (unsigned i = 0; i < 31u; i++) {
        mr[2 + 2 * i] = ((uint64_t)i << 12) | 0x8u;
        mr[3 + 2 * i] = ((uint64_t)i << 21) | (21u << 6) | 0x10u | 7u;
    }
    assert_int_equal(l4mm_l4re_msg_parse(mr, 64, &m), L4MM_OK);
    assert_int_equal(m.n_items, 31u);
    for (unsigned i = 0; i < 31u; i++) {
        assert_int_equal(m.items[i].snd_base, (uint64_t)i << 12);
        assert_int_equal(m.items[i].fpage.base, (uint64_t)i << 21);
    }
    assert_true(m.n_items <= L4MM_MSG_MAX_ITEMS);
}

static void test_l4re_32_bit_entry_points_reject_null(void **state)
{
    struct l4mm_fpage f = fp(L4MM_FPAGE_MEM, 0x1000, 12, 0);
    struct l4mm_map_item it = { f, 0, false, false, 0 };
    struct l4mm_msgtag t = { 0, 0, 0, 0 };
    uint32_t w[2] = { 0, 0 };
    (void)state;
    assert_int_equal(l4mm_l4re_fpage_decode_32(0, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_item_encode_32(NULL, w), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_item_encode_32(&it, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_item_decode_32(NULL, &it), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_item_decode_32(w, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_tag_encode_32(NULL, w), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_tag_encode_32(&t, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_tag_decode_32(0, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_item_decode(NULL, &it), L4MM_EINVAL);
    assert_int_equal(l4mm_l4re_tag_decode_32(0x2, &t), L4MM_OK); /* still usable */
    assert_int_equal(t.untyped, 2u);
}

static void test_parse_32_bit_refusals(void **state)
{
    uint32_t mr[8] = { 0x100u, 0x8u, 0x0u, 0xcu, 0x0u, 0, 0, 0 }; /* X.2: map + ctrlxfer */
    struct l4mm_msg m;
    (void)state;
    assert_int_equal(l4mm_x2_msg_parse_32(mr, 5, &m), L4MM_EDECODE);
    assert_int_equal(l4mm_x2_msg_parse_32(mr, 0, &m), L4MM_EDECODE);
    mr[0] = 0x80u;
    assert_int_equal(l4mm_x2_msg_parse_32(mr, 3, &m), L4MM_OK);
    assert_int_equal(m.n_items, 1u);
    assert_int_equal(l4mm_l4re_msg_parse_32(mr, 2, &m), L4MM_EDECODE); /* 2 items, 2 words */
    assert_int_equal(l4mm_l4re_msg_parse_32(NULL, 2, &m), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_msg_parse_32(mr, 3, NULL), L4MM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_l4re_fpage_vectors),
        cmocka_unit_test(test_l4re_fpage_encode_refuses_inexpressible),
        cmocka_unit_test(test_l4re_fpage_decode_refuses_malformed),
        cmocka_unit_test(test_l4re_item_vectors),
        cmocka_unit_test(test_l4re_item_errors),
        cmocka_unit_test(test_l4re_tag_vectors),
        cmocka_unit_test(test_l4re_random_roundtrip),
        cmocka_unit_test(test_x2_parse_map_and_grant_items),
        cmocka_unit_test(test_x2_parse_refuses_malformed),
        cmocka_unit_test(test_parse_never_reads_past_n_mr),
        cmocka_unit_test(test_l4re_parse),
        cmocka_unit_test(test_parse_full_message_of_31_items),
        cmocka_unit_test(test_l4re_32_bit_entry_points_reject_null),
        cmocka_unit_test(test_parse_32_bit_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
