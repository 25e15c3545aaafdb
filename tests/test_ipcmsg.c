/*
 * test_ipcmsg.c - L4 X.2 (L4Ka::Pistachio) codecs: fpage, I/O fpage, map/grant items, message
 * tags. The protocol words built on them (acceptor, unmap status, KIP memory descriptors,
 * sigma0) are in test_ipcmsg_proto.c.
 *
 * Every expected word below was computed by hand from the layouts in the cited source files
 * (repository l4ka/pistachio unless stated); none was copied from l4mm's own output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "test_ipcmsg_util.h"

/* Encode f both ways, expect w64 / w32 (0 = refused with EINVAL in that width), decode back
 * and check the fields survive; then the invariant: decode(encode(f)) == f. */
static void check_fpage(struct l4mm_fpage f, l4mm_status st64, uint64_t w64, l4mm_status st32,
                        uint32_t w32)
{
    uint64_t w = 0x5a5a5a5a5a5a5a5aULL;
    uint32_t v = 0x5a5a5a5au;
    struct l4mm_fpage back;

    assert_int_equal(l4mm_x2_fpage_encode(&f, &w), st64);
    if (st64 == L4MM_OK) {
        assert_int_equal(w, w64);
        assert_int_equal(l4mm_x2_fpage_decode(w, &back), L4MM_OK);
        assert_true(fpage_eq(&back, &f));
    } else {
        assert_int_equal(w, 0x5a5a5a5a5a5a5a5aULL); /* untouched */
    }
    assert_int_equal(l4mm_x2_fpage_encode_32(&f, &v), st32);
    if (st32 == L4MM_OK) {
        assert_int_equal(v, w32);
        assert_int_equal(l4mm_x2_fpage_decode_32(v, &back), L4MM_OK);
        assert_true(fpage_eq(&back, &f));
    } else {
        assert_int_equal(v, 0x5a5a5a5au);
    }
}

/* Layout: user/include/l4/types.h, L4_Fpage_t: rwx bits 0-2, reserved bit 3, s bits 4-9,
 * b from bit 10 (22 bits on 32-bit, 54 on 64-bit); L4_Nilpage raw 0;
 * L4_CompleteAddressSpace has s = 1 and all else 0. */
static void test_x2_fpage_memory_vectors(void **state)
{
    (void)state;
    /* 4 KiB at 0x12345000, RW: 0x12345000 | 12 << 4 | 6 */
    check_fpage(mem(0x12345000u, 12, L4MM_R | L4MM_W), L4MM_OK, 0x123450c6u, L4MM_OK, 0x123450c6u);
    /* 2 MiB at 1 GiB, RWX: 0x40000000 | 21 << 4 | 7 */
    check_fpage(mem(0x40000000u, 21, L4MM_RWX), L4MM_OK, 0x40000157u, L4MM_OK, 0x40000157u);
    /* smallest fpage (s = 10), no rights */
    check_fpage(mem(0x400u, 10, 0), L4MM_OK, 0x4a0u, L4MM_OK, 0x4a0u);
    /* top 4 KiB of the 32-bit space, R */
    check_fpage(mem(0xfffff000u, 12, L4MM_R), L4MM_OK, 0xfffff0c4u, L4MM_OK, 0xfffff0c4u);
    /* whole 4 GiB as an ordinary fpage: s = 32 is the largest 32-bit size */
    check_fpage(mem(0, 32, 0), L4MM_OK, 0x200u, L4MM_OK, 0x200u);
    /* 64-bit only: high base with s = 47, R */
    check_fpage(mem(0xffff800000000000ULL, 47, L4MM_R), L4MM_OK, 0xffff8000000002f4ULL, L4MM_EINVAL,
                0);
    /* 64-bit only: largest size field value 63 */
    check_fpage(mem(0x8000000000000000ULL, 63, 0), L4MM_OK, 0x80000000000003f0ULL, L4MM_EINVAL, 0);
}

static void test_x2_fpage_nil_and_complete(void **state)
{
    struct l4mm_fpage f = { L4MM_FPAGE_MEM, 0, 0, 0, true, false };
    (void)state;
    check_fpage(f, L4MM_OK, 0, L4MM_OK, 0); /* L4_Nilpage */
    f.rights = L4MM_R;
    check_fpage(f, L4MM_OK, 4, L4MM_OK, 4);
    f.nil = false;
    f.complete = true;
    f.rights = 0;
    check_fpage(f, L4MM_OK, 0x10, L4MM_OK, 0x10); /* L4_CompleteAddressSpace */
    f.rights = L4MM_RWX;
    check_fpage(f, L4MM_OK, 0x17, L4MM_OK, 0x17);
    /* other fields must be 0 */
    f.base = 0x1000;
    check_fpage(f, L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    f.base = 0;
    f.order = 12;
    check_fpage(f, L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    f.order = 0;
    f.nil = true; /* both */
    check_fpage(f, L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    f.nil = false;
    f.kind = L4MM_FPAGE_IO;
    check_fpage(f, L4MM_EINVAL, 0, L4MM_EINVAL, 0);
}

/* Layout: user/include/l4/ia32/arch.h, L4_IoFpage_t: rwx bits 0-3, constant 2 in bits 4-9,
 * s bits 10-15, port bits 16-31 (L4_IoFpage / L4_IsIoFpage). */
static void test_x2_fpage_io_vectors(void **state)
{
    (void)state;
    /* COM1: 8 ports at 0x3f8, RW: 0x3f8 << 16 | 3 << 10 | 2 << 4 | 6 */
    check_fpage(io(0x3f8u, 3, L4MM_R | L4MM_W), L4MM_OK, 0x03f80c26u, L4MM_OK, 0x03f80c26u);
    /* whole I/O space: 16 << 10 | 0x20 */
    check_fpage(io(0, 16, 0), L4MM_OK, 0x4020u, L4MM_OK, 0x4020u);
    /* one port (s = 0) at 0x60 */
    check_fpage(io(0x60u, 0, 0), L4MM_OK, 0x00600020u, L4MM_OK, 0x00600020u);
    /* highest port */
    check_fpage(io(0xffffu, 0, 0), L4MM_OK, 0xffff0020u, L4MM_OK, 0xffff0020u);
}

static void test_x2_fpage_encode_refuses_inexpressible(void **state)
{
    struct l4mm_fpage f;
    (void)state;
    /* Pistachio's L4_FpageLog2(0x12345800, 12) keeps the stray bit 11; l4mm refuses */
    check_fpage(mem(0x12345800u, 12, 0), L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    check_fpage(mem(0x1000u, 9, 0), L4MM_EINVAL, 0, L4MM_EINVAL, 0);  /* below 1 KiB */
    check_fpage(mem(0, 33, 0), L4MM_OK, 0x210u, L4MM_EINVAL, 0);      /* > 32-bit space */
    check_fpage(mem(0, 64, 0), L4MM_EINVAL, 0, L4MM_EINVAL, 0);       /* no such field value */
    check_fpage(mem(0x1000u, 12, 8), L4MM_EINVAL, 0, L4MM_EINVAL, 0); /* rights beyond rwx */
    check_fpage(mem(0x100000000ULL, 12, 0), L4MM_OK, 0x1000000c0ULL, L4MM_EINVAL, 0);
    check_fpage(io(0x3f9u, 3, 0), L4MM_EINVAL, 0, L4MM_EINVAL, 0);   /* misaligned port */
    check_fpage(io(0x10000u, 0, 0), L4MM_EINVAL, 0, L4MM_EINVAL, 0); /* no such port */
    check_fpage(io(0, 17, 0), L4MM_EINVAL, 0, L4MM_EINVAL, 0);       /* > I/O space */
    f = mem(0x1000u, 12, 0);
    f.kind = L4MM_FPAGE_OBJ; /* X.2 has no object fpages */
    check_fpage(f, L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    f.kind = (enum l4mm_fpage_kind)7;
    check_fpage(f, L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    assert_int_equal(l4mm_x2_fpage_encode(NULL, &(uint64_t){ 0 }), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_fpage_encode(&f, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_fpage_encode_32(NULL, &(uint32_t){ 0 }), L4MM_EINVAL);
}

static void expect_fpage_edecode(uint64_t w64, bool also32)
{
    struct l4mm_fpage out = mem(0x5000u, 12, 5), keep = out;
    assert_int_equal(l4mm_x2_fpage_decode(w64, &out), L4MM_EDECODE);
    assert_true(fpage_eq(&out, &keep));
    if (also32) {
        assert_int_equal(l4mm_x2_fpage_decode_32((uint32_t)w64, &out), L4MM_EDECODE);
        assert_true(fpage_eq(&out, &keep));
    }
}

static void test_x2_fpage_decode_refuses_malformed(void **state)
{
    (void)state;
    expect_fpage_edecode(0x123450ceu, true);     /* reserved bit 3 */
    expect_fpage_edecode(0x123458c0u, true);     /* stray base bit below 2^s */
    expect_fpage_edecode(0x12345050u, true);     /* s = 5: no fpage below 1 KiB */
    expect_fpage_edecode(0x12345090u, true);     /* s = 9 */
    expect_fpage_edecode(0x1000u, true);         /* s = 0 with base: not the nilpage */
    expect_fpage_edecode(0x1010u, true);         /* s = 1 with base: not complete */
    expect_fpage_edecode(0x03f90c20u, true);     /* I/O port 0x3f9 not 8-aligned */
    expect_fpage_edecode(0x4420u, true);         /* I/O s = 17 */
    expect_fpage_edecode(0x100000020ULL, false); /* I/O word with bits 32+ */
    assert_int_equal(l4mm_x2_fpage_decode_32(0x210u, &(struct l4mm_fpage){ 0 }), L4MM_EDECODE);
    assert_int_equal(l4mm_x2_fpage_decode(0x123450c6u, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_fpage_decode_32(0x123450c6u, NULL), L4MM_EINVAL);
}

/* Layout: user/include/l4/message.h, L4_MapItem_t / L4_GrantItem_t: C bit 0, type bits 1-3
 * (0x04 map, 0x05 grant), zeros bits 4-9, snd_base >> 10 from bit 10; word 1 the fpage. */
static void test_x2_item_vectors(void **state)
{
    struct l4mm_map_item it = { mem(0x12345000u, 12, L4MM_R | L4MM_W), 0x400000u, false, false, 0 };
    struct l4mm_map_item back;
    uint64_t w[2];
    uint32_t v[2];
    (void)state;

    assert_int_equal(l4mm_x2_item_encode(&it, w), L4MM_OK);
    assert_int_equal(w[0], 0x400008u); /* L4_MapItem(f, 0x400000) */
    assert_int_equal(w[1], 0x123450c6u);
    assert_int_equal(l4mm_x2_item_decode(w, &back), L4MM_OK);
    assert_true(item_eq(&back, &it));
    assert_int_equal(l4mm_x2_item_encode_32(&it, v), L4MM_OK);
    assert_int_equal(v[0], 0x400008u);
    assert_int_equal(v[1], 0x123450c6u);
    assert_int_equal(l4mm_x2_item_decode_32(v, &back), L4MM_OK);
    assert_true(item_eq(&back, &it));

    it.grant = true;
    it.more = true; /* grant item 0x05 << 1 | C */
    assert_int_equal(l4mm_x2_item_encode(&it, w), L4MM_OK);
    assert_int_equal(w[0], 0x40000bu);
    assert_int_equal(l4mm_x2_item_decode(w, &back), L4MM_OK);
    assert_true(item_eq(&back, &it));

    it.snd_base = 0xffffffffffc00000ULL; /* 64-bit only */
    assert_int_equal(l4mm_x2_item_encode(&it, w), L4MM_OK);
    assert_int_equal(w[0], 0xffffffffffc0000bULL);
    assert_int_equal(l4mm_x2_item_encode_32(&it, v), L4MM_EINVAL);
}

static void test_x2_item_errors(void **state)
{
    struct l4mm_map_item it = { mem(0x12345000u, 12, 0), 0x400200u, false, false, 0 };
    struct l4mm_map_item out, keep;
    uint64_t w[2] = { 1, 2 };
    uint32_t v[2] = { 1, 2 };
    (void)state;
    assert_int_equal(l4mm_x2_item_encode(&it, w), L4MM_EINVAL); /* snd_base not 1K-aligned */
    assert_int_equal(l4mm_x2_item_encode_32(&it, v), L4MM_EINVAL);
    it.snd_base = 0;
    it.attr = 1; /* X.2 items have no attribute bits */
    assert_int_equal(l4mm_x2_item_encode(&it, w), L4MM_EINVAL);
    it.attr = 0;
    it.fpage.base = 0x12345800u;
    assert_int_equal(l4mm_x2_item_encode(&it, w), L4MM_EINVAL);
    assert_int_equal(w[0], 1u);
    assert_int_equal(w[1], 2u);
    assert_int_equal(l4mm_x2_item_encode(NULL, w), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_item_encode(&it, NULL), L4MM_EINVAL);

    memset(&out, 0x3c, sizeof out);
    keep = out;
    /* string item (type 0xx), ctrlxfer (110), reserved (111), bits 4-9, bad fpage */
    static const uint64_t bad[][2] = { { 0x0, 0x123450c6u },  { 0x2, 0x123450c6u },
                                       { 0xc, 0x123450c6u },  { 0xe, 0x123450c6u },
                                       { 0x18, 0x123450c6u }, { 0x208, 0x123450c6u },
                                       { 0x8, 0x123450ceu } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t b32[2] = { (uint32_t)bad[i][0], (uint32_t)bad[i][1] };
        assert_int_equal(l4mm_x2_item_decode(bad[i], &out), L4MM_EDECODE);
        assert_int_equal(l4mm_x2_item_decode_32(b32, &out), L4MM_EDECODE);
        assert_memory_equal(&out, &keep, sizeof out);
    }
    assert_int_equal(l4mm_x2_item_decode(NULL, &out), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_item_decode(bad[0], NULL), L4MM_EINVAL);
}

/* Layout: user/include/l4/message.h, L4_MsgTag_t: u bits 0-5, t bits 6-11, flags bits 12-15,
 * label 16 bits (32-bit) / 48 bits (64-bit); __L4_NUM_MRS 64. */
static void check_tag(struct l4mm_msgtag t, l4mm_status st64, uint64_t w64, l4mm_status st32,
                      uint32_t w32)
{
    uint64_t w = 0;
    uint32_t v = 0;
    struct l4mm_msgtag back;
    uint64_t again;
    assert_int_equal(l4mm_x2_tag_encode(&t, &w), st64);
    if (st64 == L4MM_OK) {
        assert_int_equal(w, w64);
        assert_int_equal(l4mm_x2_tag_decode(w, &back), L4MM_OK);
        assert_int_equal(back.label, t.label);
        assert_int_equal(back.untyped, t.untyped);
        assert_int_equal(back.typed, t.typed);
        assert_int_equal(back.flags, t.flags);
        assert_int_equal(l4mm_x2_tag_encode(&back, &again), L4MM_OK);
        assert_int_equal(again, w);
    }
    assert_int_equal(l4mm_x2_tag_encode_32(&t, &v), st32);
    if (st32 == L4MM_OK) {
        assert_int_equal(v, w32);
        assert_int_equal(l4mm_x2_tag_decode_32(v, &back), L4MM_OK);
        assert_int_equal(back.label, t.label);
        assert_int_equal(back.flags, t.flags);
    }
}

static void test_x2_tag_vectors(void **state)
{
    (void)state;
    /* sigma0 request tag: label -6 << 4 (user/include/l4/sigma0.h), u = 2, t = 0 */
    check_tag((struct l4mm_msgtag){ L4MM_X2_SIGMA0_LABEL, 2, 0, 0 }, L4MM_OK, 0xffffffffffa00002ULL,
              L4MM_OK, 0xffa00002u);
    /* label 0x1234, E flag, t = 4, u = 5 */
    check_tag((struct l4mm_msgtag){ 0x1234, 5, 4, L4MM_TAG_FLAG_ERROR }, L4MM_OK, 0x12348105u,
              L4MM_OK, 0x12348105u);
    /* extremes of the label field */
    check_tag((struct l4mm_msgtag){ 32767, 0, 0, 0 }, L4MM_OK, 0x7fff0000u, L4MM_OK, 0x7fff0000u);
    check_tag((struct l4mm_msgtag){ -32768, 0, 0, 0 }, L4MM_OK, 0xffffffff80000000ULL, L4MM_OK,
              0x80000000u);
    check_tag((struct l4mm_msgtag){ 32768, 0, 0, 0 }, L4MM_OK, 0x80000000u, L4MM_EINVAL, 0);
    check_tag((struct l4mm_msgtag){ ((int64_t)1 << 47) - 1, 0, 0, 0 }, L4MM_OK,
              0x7fffffffffff0000ULL, L4MM_EINVAL, 0);
    check_tag((struct l4mm_msgtag){ -((int64_t)1 << 47), 0, 0, 0 }, L4MM_OK, 0x8000000000000000ULL,
              L4MM_EINVAL, 0);
    check_tag((struct l4mm_msgtag){ (int64_t)1 << 47, 0, 0, 0 }, L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    /* 63 words after MR0 is the most 64 MRs hold */
    check_tag((struct l4mm_msgtag){ 0, 31, 32, 0 }, L4MM_OK, 0x81fu, L4MM_OK, 0x81fu);
    check_tag((struct l4mm_msgtag){ 0, 32, 32, 0 }, L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    check_tag((struct l4mm_msgtag){ 0, 64, 0, 0 }, L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    check_tag((struct l4mm_msgtag){ 0, 0, 64, 0 }, L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    check_tag((struct l4mm_msgtag){ 0, 0, 0, 16 }, L4MM_EINVAL, 0, L4MM_EINVAL, 0);
    assert_int_equal(l4mm_x2_tag_encode(NULL, &(uint64_t){ 0 }), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_tag_encode_32(&(struct l4mm_msgtag){ 0 }, NULL), L4MM_EINVAL);
}

static void test_x2_tag_decode(void **state)
{
    struct l4mm_msgtag t = { 77, 1, 1, 1 };
    (void)state;
    /* sign extension from 48 bits */
    assert_int_equal(l4mm_x2_tag_decode(0xffff000000000000ULL, &t), L4MM_OK);
    assert_int_equal(t.label, -(int64_t)0x100000000LL);
    assert_int_equal(l4mm_x2_tag_decode_32(0xffff0000u, &t), L4MM_OK);
    assert_int_equal(t.label, -1);
    /* u + t = 40 + 30 > 63: no conforming kernel delivers this */
    t.label = 77;
    assert_int_equal(l4mm_x2_tag_decode(0x7a8u, &t), L4MM_EDECODE);
    assert_int_equal(l4mm_x2_tag_decode_32(0x7a8u, &t), L4MM_EDECODE);
    assert_int_equal(t.label, 77);
    assert_int_equal(l4mm_x2_tag_decode(0, NULL), L4MM_EINVAL);
}

static void test_x2_tag_every_word_reencodes_identically(void **state)
{
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    (void)state;
    for (unsigned i = 0; i < 200000u; i++) {
        struct l4mm_msgtag t;
        uint64_t w, again = 0;
        uint32_t again32 = 0;
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        w = s;
        if (l4mm_x2_tag_decode(w, &t) == L4MM_OK) {
            assert_int_equal(l4mm_x2_tag_encode(&t, &again), L4MM_OK);
            assert_int_equal(again, w);
        } else {
            assert_true((w & 63u) + ((w >> 6) & 63u) > 63u);
        }
        if (l4mm_x2_tag_decode_32((uint32_t)w, &t) == L4MM_OK) {
            assert_int_equal(l4mm_x2_tag_encode_32(&t, &again32), L4MM_OK);
            assert_int_equal(again32, (uint32_t)w);
        }
    }
}

/* Random words: whatever decodes must re-encode to a word that decodes to the same fields. */
static void test_x2_fpage_item_random_roundtrip(void **state)
{
    uint64_t s = 0x243f6a8885a308d3ULL;
    unsigned ok = 0;
    (void)state;
    for (unsigned i = 0; i < 300000u; i++) {
        struct l4mm_fpage f, g;
        struct l4mm_map_item it, it2;
        uint64_t w, w2, iw[2], iw2[2];
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        /* bias towards valid words: clear bit 3 and pick s from the interesting range */
        w = (s & ~(uint64_t)0x3f8) | ((uint64_t)((s >> 20) % 64u) << 4);
        if (l4mm_x2_fpage_decode(w, &f) == L4MM_OK) {
            ok++;
            assert_int_equal(l4mm_x2_fpage_encode(&f, &w2), L4MM_OK);
            assert_int_equal(w2, w);
            assert_int_equal(l4mm_x2_fpage_decode(w2, &g), L4MM_OK);
            assert_true(fpage_eq(&f, &g));
        }
        iw[0] = (s >> 3) & ~(uint64_t)0x3f0;
        iw[1] = w;
        if (l4mm_x2_item_decode(iw, &it) == L4MM_OK) {
            assert_int_equal(l4mm_x2_item_encode(&it, iw2), L4MM_OK);
            assert_int_equal(l4mm_x2_item_decode(iw2, &it2), L4MM_OK);
            assert_true(item_eq(&it, &it2));
        }
    }
    assert_true(ok > 1000u); /* the generator really reaches valid words */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x2_fpage_memory_vectors),
        cmocka_unit_test(test_x2_fpage_nil_and_complete),
        cmocka_unit_test(test_x2_fpage_io_vectors),
        cmocka_unit_test(test_x2_fpage_encode_refuses_inexpressible),
        cmocka_unit_test(test_x2_fpage_decode_refuses_malformed),
        cmocka_unit_test(test_x2_item_vectors),
        cmocka_unit_test(test_x2_item_errors),
        cmocka_unit_test(test_x2_tag_vectors),
        cmocka_unit_test(test_x2_tag_decode),
        cmocka_unit_test(test_x2_tag_every_word_reencodes_identically),
        cmocka_unit_test(test_x2_fpage_item_random_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
