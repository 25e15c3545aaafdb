/*
 * ipcmsg_internal.h - helpers shared by the ipcmsg codecs (internal, not installed).
 *
 * Every codec is written once over uint64_t with the word width `wb` (32 or 64) as a
 * parameter; the public 64-bit and _32 entry points are thin wrappers. A 32-bit word is
 * widened to uint64_t before decoding, so decoders only see bits the word really has.
 */
#ifndef L4MM_IPCMSG_INTERNAL_H
#define L4MM_IPCMSG_INTERNAL_H

#include "common/glue.h"
#include <l4mm/ipcmsg.h>

/* All ones in the low `wb` bits. */
static inline uint64_t ipcmsg_wmask(unsigned wb)
{
    return wb >= 64u ? ~(uint64_t)0 : (((uint64_t)1 << wb) - 1u);
}

/* 2^order - 1, for order 0..63. */
static inline uint64_t ipcmsg_lowmask(unsigned order)
{
    return order >= 64u ? ~(uint64_t)0 : (((uint64_t)1 << order) - 1u);
}

/* Tag label field: bits 16..wb-1, signed. */
static inline bool ipcmsg_label_fits(int64_t label, unsigned wb)
{
    unsigned lbits = wb - 16u;
    int64_t max = (int64_t)(((uint64_t)1 << (lbits - 1u)) - 1u);
    int64_t min = -max - 1;
    return label >= min && label <= max;
}

static inline uint64_t ipcmsg_label_to_field(int64_t label, unsigned wb)
{
    uint64_t lmask = ipcmsg_wmask(wb - 16u);
    if (label >= 0)
        return (uint64_t)label;
    /* two's complement in lbits bits without signed overflow */
    return lmask - (uint64_t)(-(label + 1));
}

static inline int64_t ipcmsg_field_to_label(uint64_t field, unsigned wb)
{
    unsigned lbits = wb - 16u;
    uint64_t lmask = ipcmsg_wmask(lbits);
    field &= lmask;
    if ((field >> (lbits - 1u)) != 0u)
        return -(int64_t)(lmask - field) - 1;
    return (int64_t)field;
}

/* Decoders are inline here so the parsers can specialise them per format and word width;
 * x2.c and l4re.c export them for the protocol helpers. */
#if defined(__GNUC__)
#define L4MM_IPC_INLINE inline __attribute__((always_inline))
#else
#define L4MM_IPC_INLINE inline
#endif

enum {
    X2_MIN_ORDER = 10, /* smallest memory fpage: 1 KiB */
    X2_IO_TAG = 2,     /* bits 4-9 of an I/O fpage */
    X2_IO_MAX_ORDER = 16,
    X2_ITEM_MAP = 4,
    X2_ITEM_GRANT = 5,
    X2_FIELD6 = 0x3f
};

static inline unsigned x2_max_order(unsigned wb)
{
    return wb >= 64u ? 63u : wb;
}

enum {
    RE_TYPE_SPECIAL = 0,
    RE_TYPE_MEM = 1,
    RE_TYPE_IO = 2,
    RE_TYPE_OBJ = 3,
    RE_WHOLE_SPACE = 63,
    RE_MEM_MIN_ORDER = 12,
    RE_IO_MAX_ORDER = 16,
    RE_ITEM_CONT = 1,
    RE_ITEM_GRANT = 2,
    RE_RCV_LOCAL_ID = 4,
    RE_ITEM_MAP = 8,
    RE_FIELD6 = 0x3f
};

static inline unsigned re_max_order(enum l4mm_fpage_kind k, unsigned wb)
{
    switch (k) {
    case L4MM_FPAGE_MEM: return wb >= 64u ? 63u : wb;
    case L4MM_FPAGE_IO: return RE_IO_MAX_ORDER;
    case L4MM_FPAGE_OBJ:
    default: return wb - 12u;
    }
}

static inline unsigned re_min_order(enum l4mm_fpage_kind k)
{
    return k == L4MM_FPAGE_MEM ? (unsigned)RE_MEM_MIN_ORDER : 0u;
}

static inline uint64_t re_max_base(enum l4mm_fpage_kind k, unsigned wb)
{
    switch (k) {
    case L4MM_FPAGE_MEM: return ipcmsg_wmask(wb);
    case L4MM_FPAGE_IO: return 0xffffu;
    case L4MM_FPAGE_OBJ:
    default: return ipcmsg_wmask(wb - 12u);
    }
}

/*
 * Each decoder is split into a predicate (is the word valid?) and a fill step (fields of a
 * word known to be valid). The decoders are "predicate, then fill"; the parsers run the
 * predicates over the whole message first and fill only once everything passed, so a
 * refused message leaves the output untouched at the cost of one cheap extra pass.
 */

/* X.2 fpage (types.h L4_Fpage_t, ia32/arch.h L4_IoFpage_t). */
static L4MM_IPC_INLINE bool ipcmsg_x2_fpage_ok(uint64_t w, unsigned wb)
{
    unsigned s = (unsigned)(w >> 4) & X2_FIELD6;
    if ((w & 8u) != 0u)
        return false;
    if (L4MM_LIKELY(s >= X2_MIN_ORDER)) /* memory: base aligned to 2^s */
        return s <= x2_max_order(wb) && (w & ipcmsg_lowmask(s) & ~(uint64_t)0x3ff) == 0u;
    if (s == X2_IO_TAG) {
        unsigned order = (unsigned)(w >> 10) & X2_FIELD6;
        uint64_t port = w >> 16;
        return port <= 0xffffu && order <= X2_IO_MAX_ORDER && (port & ipcmsg_lowmask(order)) == 0u;
    }
    return s <= 1u && (w >> 10) == 0u; /* nilpage / complete; 3..9 do not exist */
}

/* Branch-free on purpose (selects compile to cmov): for a valid word the base bits of a
 * nil/complete fpage are 0, so "w & ~0x3ff" is right for every non-I/O fpage. */
static L4MM_IPC_INLINE void ipcmsg_x2_fpage_fill(uint64_t w, struct l4mm_fpage *f)
{
    unsigned s = (unsigned)(w >> 4) & X2_FIELD6;
    bool is_io = (s == X2_IO_TAG);
    f->kind = is_io ? L4MM_FPAGE_IO : L4MM_FPAGE_MEM;
    f->base = is_io ? (w >> 16) : (w & ~(uint64_t)0x3ff);
    f->order = is_io ? ((unsigned)(w >> 10) & X2_FIELD6) : (s > 1u ? s : 0u);
    f->rights = (unsigned)(w & 7u);
    f->nil = (s == 0u);
    f->complete = (s == 1u);
}

static L4MM_IPC_INLINE l4mm_status ipcmsg_x2_fpage_dec(uint64_t w, unsigned wb,
                                                       struct l4mm_fpage *out)
{
    if (!ipcmsg_x2_fpage_ok(w, wb))
        return L4MM_EDECODE;
    ipcmsg_x2_fpage_fill(w, out);
    return L4MM_OK;
}

/* X.2 map/grant item (message.h L4_MapItem_t / L4_GrantItem_t): bits 2-9 of w0 must read
 * 0b00000010 -- type 10x (map 100, grant 101) and the six zero bits. */
static L4MM_IPC_INLINE bool ipcmsg_x2_item_ok(uint64_t w0, uint64_t w1, unsigned wb)
{
    return (w0 & 0x3fcu) == 0x8u && ipcmsg_x2_fpage_ok(w1, wb);
}

static L4MM_IPC_INLINE void ipcmsg_x2_item_fill(uint64_t w0, uint64_t w1, struct l4mm_map_item *it)
{
    unsigned s = (unsigned)(w1 >> 4) & X2_FIELD6;
    if (L4MM_LIKELY(s >= X2_MIN_ORDER)) { /* the common case: a memory fpage */
        struct l4mm_map_item v = { { L4MM_FPAGE_MEM, w1 & ~(uint64_t)0x3ff, s, (unsigned)(w1 & 7u),
                                     false, false },
                                   w0 & ~(uint64_t)0x3ff,
                                   (w0 & 2u) != 0u,
                                   (w0 & 1u) != 0u,
                                   0u };
        *it = v;
        return;
    }
    ipcmsg_x2_fpage_fill(w1, &it->fpage);
    it->snd_base = w0 & ~(uint64_t)0x3ff;
    it->grant = (w0 & 2u) != 0u;
    it->more = (w0 & 1u) != 0u;
    it->attr = 0u;
}

static L4MM_IPC_INLINE l4mm_status ipcmsg_x2_item_dec(uint64_t w0, uint64_t w1, unsigned wb,
                                                      struct l4mm_map_item *out)
{
    if (!ipcmsg_x2_item_ok(w0, w1, wb))
        return L4MM_EDECODE;
    ipcmsg_x2_item_fill(w0, w1, out);
    return L4MM_OK;
}

static L4MM_IPC_INLINE l4mm_status ipcmsg_x2_tag_dec(uint64_t w, unsigned wb,
                                                     struct l4mm_msgtag *out)
{
    struct l4mm_msgtag t;

    t.untyped = (unsigned)w & X2_FIELD6;
    t.typed = (unsigned)(w >> 6) & X2_FIELD6;
    if (t.untyped + t.typed > L4MM_X2_NUM_MRS - 1u)
        return L4MM_EDECODE;
    t.flags = (unsigned)(w >> 12) & 15u;
    t.label = ipcmsg_field_to_label(w >> 16, wb);
    *out = t;
    return L4MM_OK;
}

/* L4Re fpage (__l4_fpage.h). */
static L4MM_IPC_INLINE bool ipcmsg_l4re_fpage_ok(uint64_t w, unsigned wb)
{
    unsigned type = (unsigned)(w >> 4) & 3u;
    unsigned order = (unsigned)(w >> 6) & RE_FIELD6;
    uint64_t page = w >> 12;

    if (L4MM_LIKELY(type == RE_TYPE_MEM))
        return (w & 8u) == 0u && order >= RE_MEM_MIN_ORDER && order <= x2_max_order(wb) &&
               (w & ipcmsg_lowmask(order) & ~(uint64_t)0xfff) == 0u;
    switch (type) {
    case RE_TYPE_IO:
        return (w & 8u) == 0u && order <= RE_IO_MAX_ORDER && page <= 0xffffu &&
               (page & ipcmsg_lowmask(order)) == 0u;
    case RE_TYPE_OBJ: return order <= wb - 12u && (page & ipcmsg_lowmask(order)) == 0u;
    default: /* special: invalid (order 0) or all spaces (order 63), nothing else */
        return page == 0u && (order == 0u || order == RE_WHOLE_SPACE);
    }
}

static L4MM_IPC_INLINE void ipcmsg_l4re_fpage_fill(uint64_t w, struct l4mm_fpage *f)
{
    unsigned type = (unsigned)(w >> 4) & 3u;
    unsigned order = (unsigned)(w >> 6) & RE_FIELD6;

    f->rights = (unsigned)w & 15u;
    f->nil = (type == RE_TYPE_SPECIAL && order == 0u);
    f->complete = (type == RE_TYPE_SPECIAL && order != 0u);
    f->kind = type == RE_TYPE_IO    ? L4MM_FPAGE_IO
              : type == RE_TYPE_OBJ ? L4MM_FPAGE_OBJ
                                    : L4MM_FPAGE_MEM;
    f->order = type == RE_TYPE_SPECIAL ? 0u : order;
    f->base = type == RE_TYPE_MEM ? (w & ~(uint64_t)0xfff) : (w >> 12);
}

static L4MM_IPC_INLINE l4mm_status ipcmsg_l4re_fpage_dec(uint64_t w, unsigned wb,
                                                         struct l4mm_fpage *out)
{
    if (!ipcmsg_l4re_fpage_ok(w, wb))
        return L4MM_EDECODE;
    ipcmsg_l4re_fpage_fill(w, out);
    return L4MM_OK;
}

/* L4Re send item (consts.h): L4_ITEM_MAP (bit 3) set; bit 2 (receive-only local id) and
 * bits 8-11 clear. */
static L4MM_IPC_INLINE bool ipcmsg_l4re_item_ok(uint64_t w0, uint64_t w1, unsigned wb)
{
    return (w0 & 0xf0cu) == (uint64_t)RE_ITEM_MAP && ipcmsg_l4re_fpage_ok(w1, wb);
}

static L4MM_IPC_INLINE void ipcmsg_l4re_item_fill(uint64_t w0, uint64_t w1,
                                                  struct l4mm_map_item *it)
{
    unsigned type = (unsigned)(w1 >> 4) & 3u;
    if (L4MM_LIKELY(type == RE_TYPE_MEM)) { /* the common case: a memory fpage */
        struct l4mm_map_item v = { { L4MM_FPAGE_MEM, w1 & ~(uint64_t)0xfff,
                                     (unsigned)(w1 >> 6) & RE_FIELD6, (unsigned)w1 & 15u, false,
                                     false },
                                   w0 & ~(uint64_t)0xfff,
                                   (w0 & RE_ITEM_GRANT) != 0u,
                                   (w0 & RE_ITEM_CONT) != 0u,
                                   (unsigned)(w0 >> 4) & 15u };
        *it = v;
        return;
    }
    ipcmsg_l4re_fpage_fill(w1, &it->fpage);
    /* memory (and special) hot spots are addresses; I/O and object ones count units */
    it->snd_base =
        (type == RE_TYPE_IO || type == RE_TYPE_OBJ) ? (w0 >> 12) : (w0 & ~(uint64_t)0xfff);
    it->attr = (unsigned)(w0 >> 4) & 15u;
    it->grant = (w0 & RE_ITEM_GRANT) != 0u;
    it->more = (w0 & RE_ITEM_CONT) != 0u;
}

static L4MM_IPC_INLINE l4mm_status ipcmsg_l4re_item_dec(uint64_t w0, uint64_t w1, unsigned wb,
                                                        struct l4mm_map_item *out)
{
    if (!ipcmsg_l4re_item_ok(w0, w1, wb))
        return L4MM_EDECODE;
    ipcmsg_l4re_item_fill(w0, w1, out);
    return L4MM_OK;
}

static L4MM_IPC_INLINE l4mm_status ipcmsg_l4re_tag_dec(uint64_t w, unsigned wb,
                                                       struct l4mm_msgtag *out)
{
    struct l4mm_msgtag t;

    t.untyped = (unsigned)w & RE_FIELD6;
    t.typed = (unsigned)(w >> 6) & RE_FIELD6;
    if (t.untyped + 2u * t.typed > L4MM_L4RE_NUM_MRS)
        return L4MM_EDECODE;
    t.flags = (unsigned)(w >> 12) & 15u;
    t.label = ipcmsg_field_to_label(w >> 16, wb);
    *out = t;
    return L4MM_OK;
}

/* Generic codecs (wb = 32 or 64). Inputs are already non-NULL. */
l4mm_status l4mm_ipcmsg_x2_fpage_enc(const struct l4mm_fpage *f, unsigned wb, uint64_t *w);
l4mm_status l4mm_ipcmsg_x2_fpage_dec(uint64_t w, unsigned wb, struct l4mm_fpage *out);
l4mm_status l4mm_ipcmsg_x2_item_enc(const struct l4mm_map_item *it, unsigned wb, uint64_t w[2]);
l4mm_status l4mm_ipcmsg_x2_item_dec(uint64_t w0, uint64_t w1, unsigned wb,
                                    struct l4mm_map_item *out);
l4mm_status l4mm_ipcmsg_x2_tag_enc(const struct l4mm_msgtag *t, unsigned wb, uint64_t *w);
l4mm_status l4mm_ipcmsg_x2_tag_dec(uint64_t w, unsigned wb, struct l4mm_msgtag *out);
l4mm_status l4mm_ipcmsg_l4re_fpage_enc(const struct l4mm_fpage *f, unsigned wb, uint64_t *w);
l4mm_status l4mm_ipcmsg_l4re_fpage_dec(uint64_t w, unsigned wb, struct l4mm_fpage *out);
l4mm_status l4mm_ipcmsg_l4re_item_enc(const struct l4mm_map_item *it, unsigned wb, uint64_t w[2]);
l4mm_status l4mm_ipcmsg_l4re_item_dec(uint64_t w0, uint64_t w1, unsigned wb,
                                      struct l4mm_map_item *out);
l4mm_status l4mm_ipcmsg_l4re_tag_enc(const struct l4mm_msgtag *t, unsigned wb, uint64_t *w);
l4mm_status l4mm_ipcmsg_l4re_tag_dec(uint64_t w, unsigned wb, struct l4mm_msgtag *out);

#endif /* L4MM_IPCMSG_INTERNAL_H */
