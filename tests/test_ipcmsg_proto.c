/*
 * test_ipcmsg_proto.c - L4 X.2 protocol words: receive acceptor (BR0), unmap status bits,
 * KIP memory descriptors, sigma0 request (incl. "any page" and the extended third word) and
 * reply.
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

/* Layout: user/include/l4/message.h, L4_Acceptor_t: s bit 0, c bit 1, zeros bits 2-3,
 * RcvWindow from bit 4; L4_MapGrantItems() copies the fpage and clears only s and zeros. */
static void test_x2_acceptor(void **state)
{
    struct l4mm_x2_acceptor a = { true, false, { L4MM_FPAGE_MEM, 0, 0, 0, false, true } };
    struct l4mm_x2_acceptor b;
    uint64_t w = 0;
    uint32_t v = 0;
    (void)state;
    assert_int_equal(l4mm_x2_acceptor_encode(&a, &w), L4MM_OK);
    assert_int_equal(w, 0x11u); /* complete window + string items */
    assert_int_equal(l4mm_x2_acceptor_encode_32(&a, &v), L4MM_OK);
    assert_int_equal(v, 0x11u);
    assert_int_equal(l4mm_x2_acceptor_decode(w, &b), L4MM_OK);
    assert_true(b.strings && !b.ctrlxfer && b.window.complete);

    a.strings = false;
    a.ctrlxfer = true;
    a.window = mem(0x80000000u, 31, 0);
    assert_int_equal(l4mm_x2_acceptor_encode(&a, &w), L4MM_OK);
    assert_int_equal(w, 0x800001f2u);
    assert_int_equal(l4mm_x2_acceptor_decode_32(0x800001f2u, &b), L4MM_OK);
    assert_true(!b.strings && b.ctrlxfer && fpage_eq(&b.window, &a.window));

    /* L4_UntypedWordsAcceptor: raw 0 = nil window, no flags */
    assert_int_equal(l4mm_x2_acceptor_decode(0, &b), L4MM_OK);
    assert_true(!b.strings && !b.ctrlxfer && b.window.nil);

    /* the Pistachio leak: a window with W would set c; l4mm refuses the rights */
    a.ctrlxfer = false;
    a.window = mem(0x80000000u, 31, L4MM_W);
    w = 0x77;
    assert_int_equal(l4mm_x2_acceptor_encode(&a, &w), L4MM_EINVAL);
    assert_int_equal(w, 0x77u);
    a.window = io(0, 16, 0); /* I/O window is not a memory window */
    assert_int_equal(l4mm_x2_acceptor_encode(&a, &w), L4MM_EINVAL);
    a.window = mem(0x80000400u, 31, 0);
    assert_int_equal(l4mm_x2_acceptor_encode_32(&a, &v), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_acceptor_decode(0x14u, &b), L4MM_EDECODE);   /* bit 2 */
    assert_int_equal(l4mm_x2_acceptor_decode(0x18u, &b), L4MM_EDECODE);   /* bit 3 */
    assert_int_equal(l4mm_x2_acceptor_decode(0x4020u, &b), L4MM_EDECODE); /* I/O fpage */
    assert_int_equal(l4mm_x2_acceptor_decode(0x50u, &b), L4MM_EDECODE);   /* s = 5 */
    assert_int_equal(l4mm_x2_acceptor_encode(NULL, &w), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_acceptor_decode(0, NULL), L4MM_EINVAL);
}

/* X.2 Unmap: the rights field of each returned fpage reports referenced (R position), dirty
 * (W) and executed (X); field positions as in types.h L4_Fpage_t. */
static void test_x2_unmap_status(void **state)
{
    struct l4mm_fpage f = mem(0x12345000u, 12, 0), g;
    unsigned st = 99;
    uint64_t w = 0;
    uint32_t v = 0;
    (void)state;
    assert_int_equal(l4mm_x2_unmap_status_encode(&f, L4MM_UNMAP_REFERENCED | L4MM_UNMAP_DIRTY, &w),
                     L4MM_OK);
    assert_int_equal(w, 0x123450c6u);
    assert_int_equal(l4mm_x2_unmap_status_encode_32(&f, L4MM_UNMAP_EXECUTED, &v), L4MM_OK);
    assert_int_equal(v, 0x123450c1u);
    assert_int_equal(l4mm_x2_unmap_status_decode(0x123450c5u, &g, &st), L4MM_OK);
    assert_int_equal(st, L4MM_UNMAP_REFERENCED | L4MM_UNMAP_EXECUTED);
    assert_true(fpage_eq(&g, &f));
    assert_int_equal(l4mm_x2_unmap_status_decode_32(0x123450c2u, &g, &st), L4MM_OK);
    assert_int_equal(st, L4MM_UNMAP_DIRTY);
    assert_int_equal(l4mm_x2_unmap_status_encode(&f, 8, &w), L4MM_EINVAL);
    f.rights = L4MM_R;
    assert_int_equal(l4mm_x2_unmap_status_encode(&f, 0, &w), L4MM_EINVAL);
    st = 99;
    assert_int_equal(l4mm_x2_unmap_status_decode(0x123450ceu, &g, &st), L4MM_EDECODE);
    assert_int_equal(st, 99u);
    assert_int_equal(l4mm_x2_unmap_status_decode(0, NULL, &st), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_unmap_status_decode(0, &g, NULL), L4MM_EINVAL);
}

/* Layout: user/include/l4/kip.h, L4_MemoryDesc_t: word 0 type bits 0-3, t bits 4-7, padding
 * bit 8, v bit 9, low >> 10 from bit 10; word 1 padding bits 0-9, high >> 10 from bit 10;
 * L4_MemoryDescHigh adds 0x3ff. Types 0x0-0x4, 0xe, 0xf as defined there. */
static void test_x2_kip_memdesc(void **state)
{
    struct l4mm_kip_memdesc d = { L4MM_KIP_MEM_CONVENTIONAL, 0, false, 0x100000u, 0x7ffffffu };
    struct l4mm_kip_memdesc e;
    uint64_t w[2];
    uint32_t v[2];
    (void)state;
    assert_int_equal(l4mm_x2_kip_memdesc_encode(&d, w), L4MM_OK);
    assert_int_equal(w[0], 0x100001u);
    assert_int_equal(w[1], 0x7fffc00u);
    assert_int_equal(l4mm_x2_kip_memdesc_decode(w, &e), L4MM_OK);
    assert_true(e.type == d.type && e.subtype == d.subtype && e.virt == d.virt && e.low == d.low &&
                e.high == d.high);

    d = (struct l4mm_kip_memdesc){ L4MM_KIP_MEM_RESERVED, 0, true, 0, 0xffffffffu };
    assert_int_equal(l4mm_x2_kip_memdesc_encode_32(&d, v), L4MM_OK);
    assert_int_equal(v[0], 0x202u);
    assert_int_equal(v[1], 0xfffffc00u);
    assert_int_equal(l4mm_x2_kip_memdesc_decode_32(v, &e), L4MM_OK);
    assert_true(e.virt && e.type == 2u && e.low == 0 && e.high == 0xffffffffu);

    d = (struct l4mm_kip_memdesc){ L4MM_KIP_MEM_BOOTLOADER, 3, false, 0x400u, 0x7ffu };
    assert_int_equal(l4mm_x2_kip_memdesc_encode(&d, w), L4MM_OK);
    assert_int_equal(w[0], 0x43eu);
    assert_int_equal(w[1], 0x400u);

    d = (struct l4mm_kip_memdesc){ 0xf, 0xf, false, 0, 0xffffffffffffffffULL };
    assert_int_equal(l4mm_x2_kip_memdesc_encode(&d, w), L4MM_OK);
    assert_int_equal(w[0], 0xffu);
    assert_int_equal(w[1], 0xfffffffffffffc00ULL);
    assert_int_equal(l4mm_x2_kip_memdesc_encode_32(&d, v), L4MM_EINVAL);

    /* encode errors */
    d = (struct l4mm_kip_memdesc){ 1, 1, false, 0, 0x3ffu }; /* subtype on type 1 */
    assert_int_equal(l4mm_x2_kip_memdesc_encode(&d, w), L4MM_EINVAL);
    d = (struct l4mm_kip_memdesc){ 16, 0, false, 0, 0x3ffu };
    assert_int_equal(l4mm_x2_kip_memdesc_encode(&d, w), L4MM_EINVAL);
    d = (struct l4mm_kip_memdesc){ 1, 0, false, 0x200u, 0x3ffu }; /* low not 1K */
    assert_int_equal(l4mm_x2_kip_memdesc_encode(&d, w), L4MM_EINVAL);
    d = (struct l4mm_kip_memdesc){ 1, 0, false, 0, 0x3feu }; /* high not last byte */
    assert_int_equal(l4mm_x2_kip_memdesc_encode(&d, w), L4MM_EINVAL);
    d = (struct l4mm_kip_memdesc){ 1, 0, false, 0x800u, 0x3ffu }; /* low > high */
    assert_int_equal(l4mm_x2_kip_memdesc_encode(&d, w), L4MM_EINVAL);
    /* decode errors */
    {
        static const uint64_t bad[][2] = { { 0x101, 0x400 }, /* reserved bit 8 */
                                           { 0x001, 0x401 }, /* reserved bits 0-9 */
                                           { 0x011, 0x400 }, /* subtype on type 1 */
                                           { 0x200001, 0x100000 } /* low > high */ };
        memset(&e, 0x11, sizeof e);
        struct l4mm_kip_memdesc keep = e;
        for (size_t i = 0; i < 4; i++) {
            assert_int_equal(l4mm_x2_kip_memdesc_decode(bad[i], &e), L4MM_EDECODE);
            assert_memory_equal(&e, &keep, sizeof e);
        }
    }
    assert_int_equal(l4mm_x2_kip_memdesc_decode(NULL, &e), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_kip_memdesc_encode(&d, NULL), L4MM_EINVAL);
}

/* Sigma0 RPC: user/include/l4/sigma0.h L4_Sigma0_GetPage_RcvWindow (MR1 fpage, MR2 0, label
 * -6UL << 4) and L4_Sigma0_GetAny (L4_FpageLog2(~0UL, s)); user/serv/sigma0/sigma0.cc checks
 * u = 2, t = 0, treats base bits all ones as "any", replies L4_MapItem(L4_Nilpage, 0). */
static void test_x2_sigma0_request(void **state)
{
    struct l4mm_x2_sigma0_req r = { mem(0x12345000u, 12, L4MM_R | L4MM_W), false, 0 };
    struct l4mm_x2_sigma0_req back;
    uint64_t mr[4] = { 0 };
    uint32_t mr32[4] = { 0 };
    size_t n = 0;
    (void)state;

    assert_int_equal(l4mm_x2_sigma0_req_encode(&r, mr, &n), L4MM_OK);
    assert_int_equal(n, 3u);
    assert_int_equal(mr[0], 0xffffffffffa00002ULL);
    assert_int_equal(mr[1], 0x123450c6u);
    assert_int_equal(mr[2], 0u);
    assert_int_equal(l4mm_x2_sigma0_req_decode(mr, 3, &back), L4MM_OK);
    assert_true(!back.any && fpage_eq(&back.fpage, &r.fpage) && back.attr == 0u);
    assert_int_equal(l4mm_x2_sigma0_req_encode_32(&r, mr32, &n), L4MM_OK);
    assert_int_equal(mr32[0], 0xffa00002u);
    assert_int_equal(mr32[1], 0x123450c6u);

    /* any page of 2 MiB: our canonical word has bit 3 clear */
    r = (struct l4mm_x2_sigma0_req){ mem(0, 21, 0), true, 0 };
    assert_int_equal(l4mm_x2_sigma0_req_encode(&r, mr, &n), L4MM_OK);
    assert_int_equal(mr[1], 0xfffffffffffffd50ULL);
    assert_int_equal(l4mm_x2_sigma0_req_encode_32(&r, mr32, &n), L4MM_OK);
    assert_int_equal(mr32[1], 0xfffffd50u);
    /* L4_FpageLog2(~0UL, 21) leaves reserved bit 3 set: accepted, same fields */
    mr[1] = 0xfffffffffffffd58ULL;
    assert_int_equal(l4mm_x2_sigma0_req_decode(mr, 3, &back), L4MM_OK);
    assert_true(back.any && back.fpage.order == 21u && back.fpage.base == 0u);
    mr32[1] = 0xfffffd58u;
    assert_int_equal(l4mm_x2_sigma0_req_decode_32(mr32, 3, &back), L4MM_OK);
    assert_true(back.any && back.fpage.order == 21u);

    /* extended request (32-bit): physical 0x1_2345_6000 -> MR1 low fpage, MR3 = 1 */
    r = (struct l4mm_x2_sigma0_req){ mem(0x123456000ULL, 12, L4MM_R | L4MM_W), false, 0x5 };
    assert_int_equal(l4mm_x2_sigma0_req_encode_32(&r, mr32, &n), L4MM_OK);
    assert_int_equal(n, 4u);
    assert_int_equal(mr32[0], 0xffa00003u);
    assert_int_equal(mr32[1], 0x234560c6u);
    assert_int_equal(mr32[2], 5u);
    assert_int_equal(mr32[3], 1u);
    assert_int_equal(l4mm_x2_sigma0_req_decode_32(mr32, 4, &back), L4MM_OK);
    assert_true(fpage_eq(&back.fpage, &r.fpage) && back.attr == 5u);
    assert_int_equal(l4mm_x2_sigma0_req_decode_32(mr32, 3, &back), L4MM_EDECODE); /* short */
    /* 64-bit words hold the whole address: no third word */
    assert_int_equal(l4mm_x2_sigma0_req_encode(&r, mr, &n), L4MM_OK);
    assert_int_equal(n, 3u);
    assert_int_equal(mr[1], 0x1234560c6ULL);
}

static void test_x2_sigma0_request_errors(void **state)
{
    struct l4mm_x2_sigma0_req r = { { L4MM_FPAGE_MEM, 0, 0, 0, true, false }, false, 0 };
    struct l4mm_x2_sigma0_req back;
    uint64_t mr[4] = { 0xffffffffffa00002ULL, 0x123450c6u, 0, 0 };
    size_t n = 0;
    (void)state;
    assert_int_equal(l4mm_x2_sigma0_req_encode(&r, mr, &n), L4MM_EINVAL); /* nil */
    r = (struct l4mm_x2_sigma0_req){ mem(0x1000, 12, 0), true, 0 };       /* any + base */
    assert_int_equal(l4mm_x2_sigma0_req_encode(&r, mr, &n), L4MM_EINVAL);
    r = (struct l4mm_x2_sigma0_req){ mem(0xfffffffffffffc00ULL, 10, 0), false, 0 };
    assert_int_equal(l4mm_x2_sigma0_req_encode(&r, mr, &n), L4MM_EINVAL); /* reads as any */
    r = (struct l4mm_x2_sigma0_req){ mem(0x1000, 12, 0), false, 0x100000000ULL };
    assert_int_equal(l4mm_x2_sigma0_req_encode_32(&r, (uint32_t[4]){ 0 }, &n), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_sigma0_req_encode(NULL, mr, &n), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_sigma0_req_encode(&r, mr, NULL), L4MM_EINVAL);

    mr[0] = 0xffffffffffa00002ULL;
    mr[1] = 0x123450c6u;
    assert_int_equal(l4mm_x2_sigma0_req_decode(mr, 2, &back), L4MM_EDECODE); /* n_mr short */
    mr[0] = 0xffffffffffe00002ULL; /* label -2 << 4: page fault, not sigma0 */
    assert_int_equal(l4mm_x2_sigma0_req_decode(mr, 3, &back), L4MM_EDECODE);
    mr[0] = 0xffffffffffa00001ULL; /* u = 1 */
    assert_int_equal(l4mm_x2_sigma0_req_decode(mr, 3, &back), L4MM_EDECODE);
    mr[0] = 0xffffffffffa00042ULL; /* t = 1 */
    assert_int_equal(l4mm_x2_sigma0_req_decode(mr, 4, &back), L4MM_EDECODE);
    mr[0] = 0xffffffffffa08002ULL; /* error flag */
    assert_int_equal(l4mm_x2_sigma0_req_decode(mr, 3, &back), L4MM_EDECODE);
    mr[0] = 0xffffffffffa00002ULL;
    mr[1] = 0; /* nilpage requested */
    assert_int_equal(l4mm_x2_sigma0_req_decode(mr, 3, &back), L4MM_EDECODE);
    mr[0] = 0xffffffffffa00003ULL; /* 64-bit: third word must be 0 */
    mr[1] = 0x123450c6u;
    mr[3] = 1;
    assert_int_equal(l4mm_x2_sigma0_req_decode(mr, 4, &back), L4MM_EDECODE);
    assert_int_equal(l4mm_x2_sigma0_req_decode(NULL, 4, &back), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_sigma0_req_decode(mr, 0, &back), L4MM_EDECODE);
}

static void test_x2_sigma0_reply(void **state)
{
    struct l4mm_map_item it = { mem(0x200000u, 21, L4MM_RWX), 0, false, false, 0 }, back;
    uint64_t mr[3];
    uint32_t mr32[3];
    (void)state;
    /* "no memory": tag t = 2, MapItem(Nilpage, 0) = { 0x8, 0 } */
    assert_int_equal(l4mm_x2_sigma0_reply_encode(NULL, mr), L4MM_OK);
    assert_int_equal(mr[0], 0x80u);
    assert_int_equal(mr[1], 0x8u);
    assert_int_equal(mr[2], 0u);
    assert_int_equal(l4mm_x2_sigma0_reply_decode(mr, 3, &back), L4MM_OK);
    assert_true(back.fpage.nil && !back.grant);

    assert_int_equal(l4mm_x2_sigma0_reply_encode_32(&it, mr32), L4MM_OK);
    assert_int_equal(mr32[0], 0x80u);
    assert_int_equal(mr32[1], 0x8u);
    assert_int_equal(mr32[2], 0x200157u);
    assert_int_equal(l4mm_x2_sigma0_reply_decode_32(mr32, 3, &back), L4MM_OK);
    assert_true(item_eq(&back, &it));

    assert_int_equal(l4mm_x2_sigma0_reply_decode_32(mr32, 2, &back), L4MM_EDECODE);
    mr32[0] = 0x81u; /* u = 1 */
    assert_int_equal(l4mm_x2_sigma0_reply_decode_32(mr32, 3, &back), L4MM_EDECODE);
    mr[0] = 0x8080u; /* error flag */
    assert_int_equal(l4mm_x2_sigma0_reply_decode(mr, 3, &back), L4MM_EDECODE);
    it.attr = 3;
    assert_int_equal(l4mm_x2_sigma0_reply_encode(&it, mr), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_sigma0_reply_encode(NULL, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_sigma0_reply_decode(NULL, 3, &back), L4MM_EINVAL);
}

static void test_x2_sigma0_request_edge_cases(void **state)
{
    struct l4mm_x2_sigma0_req r = { mem(0, 5, 0), true, 0 }, back;
    uint64_t mr[4];
    uint32_t mr32[4];
    size_t n = 0;
    (void)state;
    assert_int_equal(l4mm_x2_sigma0_req_encode(&r, mr, &n), L4MM_EINVAL); /* any, order 5 */
    r = (struct l4mm_x2_sigma0_req){ mem(0x1800, 12, 0), false, 0 };
    assert_int_equal(l4mm_x2_sigma0_req_encode(&r, mr, &n), L4MM_EINVAL); /* misaligned */
    r = (struct l4mm_x2_sigma0_req){ mem(0x123456800ULL, 12, 0), false, 0 };
    assert_int_equal(l4mm_x2_sigma0_req_encode_32(&r, mr32, &n), L4MM_EINVAL); /* extended */
    /* an I/O fpage request (sigma0_io.cc serves these) */
    r = (struct l4mm_x2_sigma0_req){ io(0x3f8, 3, 6), false, 0 };
    assert_int_equal(l4mm_x2_sigma0_req_encode(&r, mr, &n), L4MM_OK);
    assert_int_equal(mr[1], 0x03f80c26u);
    assert_int_equal(l4mm_x2_sigma0_req_decode(mr, n, &back), L4MM_OK);
    assert_true(back.fpage.kind == L4MM_FPAGE_IO && !back.any);
    /* base all ones with s = 0 or 1: an "any" request for the nilpage / complete space */
    mr[0] = 0xffffffffffa00002ULL;
    mr[1] = 0xfffffffffffffc00ULL;
    assert_int_equal(l4mm_x2_sigma0_req_decode(mr, 3, &back), L4MM_EDECODE);
    mr[1] = 0xfffffffffffffc10ULL;
    assert_int_equal(l4mm_x2_sigma0_req_decode(mr, 3, &back), L4MM_EDECODE);
    /* any request with a nonzero extended word */
    mr32[0] = 0xffa00003u;
    mr32[1] = 0xfffffd50u;
    mr32[2] = 0;
    mr32[3] = 1;
    assert_int_equal(l4mm_x2_sigma0_req_decode_32(mr32, 4, &back), L4MM_EDECODE);
    mr32[3] = 0;
    assert_int_equal(l4mm_x2_sigma0_req_decode_32(mr32, 4, &back), L4MM_OK);
    assert_true(back.any && back.fpage.order == 21u);
    /* extended word on an I/O request */
    mr32[1] = 0x03f80c26u;
    mr32[3] = 1;
    assert_int_equal(l4mm_x2_sigma0_req_decode_32(mr32, 4, &back), L4MM_EDECODE);
}

/* Every _32 entry point checks its pointers like its 64-bit twin. */
static void test_x2_32_bit_entry_points_reject_null(void **state)
{
    struct l4mm_fpage f = mem(0x1000, 12, 0);
    struct l4mm_map_item it = { f, 0, false, false, 0 };
    struct l4mm_x2_acceptor a = { false, false, f };
    struct l4mm_kip_memdesc d = { 1, 0, false, 0, 0x3ff };
    struct l4mm_x2_sigma0_req r = { f, false, 0 };
    uint32_t w[4] = { 0 };
    unsigned st;
    size_t n;
    (void)state;
    assert_int_equal(l4mm_x2_item_encode_32(NULL, w), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_item_encode_32(&it, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_item_decode_32(NULL, &it), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_item_decode_32(w, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_tag_encode_32(NULL, w), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_tag_decode_32(0, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_acceptor_encode_32(NULL, w), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_acceptor_encode_32(&a, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_acceptor_decode_32(0, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_unmap_status_encode_32(NULL, 0, w), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_unmap_status_encode_32(&f, 0, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_unmap_status_decode_32(0, NULL, &st), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_unmap_status_encode(&f, 0, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_kip_memdesc_encode_32(NULL, w), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_kip_memdesc_encode_32(&d, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_kip_memdesc_decode_32(NULL, &d), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_sigma0_req_encode_32(NULL, w, &n), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_sigma0_req_encode_32(&r, NULL, &n), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_sigma0_req_decode_32(NULL, 3, &r), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_sigma0_reply_encode_32(&it, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_sigma0_reply_decode_32(w, 3, NULL), L4MM_EINVAL);
    assert_int_equal(l4mm_x2_fpage_decode_32(0x10, &f), L4MM_OK); /* still usable */
    assert_true(f.complete);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_x2_acceptor),
        cmocka_unit_test(test_x2_unmap_status),
        cmocka_unit_test(test_x2_kip_memdesc),
        cmocka_unit_test(test_x2_sigma0_request),
        cmocka_unit_test(test_x2_sigma0_request_errors),
        cmocka_unit_test(test_x2_sigma0_reply),
        cmocka_unit_test(test_x2_sigma0_request_edge_cases),
        cmocka_unit_test(test_x2_32_bit_entry_points_reject_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
