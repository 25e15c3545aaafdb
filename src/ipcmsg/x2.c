/*
 * x2.c - L4 X.2 (L4Ka::Pistachio) fpage, map/grant item and message tag codecs.
 *
 * Layouts (facts from Pistachio user/include/l4/types.h, message.h, ia32/arch.h):
 *
 *   fpage      | b (base >> 10) : wb-10 | s : 6 | 0 : 1 | rwx : 3 |
 *              s = 0, b = 0: nilpage; s = 1, b = 0: complete address space
 *   I/O fpage  | (0 : 32 on 64-bit) | port : 16 | s : 6 | 000010 : 6 | 0 : 1 | rwx : 3 |
 *   item w0    | snd_base >> 10 : wb-10 | 0 : 6 | type : 3 | C : 1 |   type 100 map, 101 grant
 *   item w1    | fpage |
 *   tag        | label : wb-16 | flags : 4 | t : 6 | u : 6 |
 *
 * Unlike Pistachio's L4_Fpage()/L4_FpageLog2(), which store the raw base and so keep stray
 * low bits, the encoder refuses a base that is not aligned to the fpage size.
 */
#include "ipcmsg/ipcmsg_internal.h"

l4mm_status l4mm_ipcmsg_x2_fpage_enc(const struct l4mm_fpage *f, unsigned wb, uint64_t *w)
{
    if (f->rights > (unsigned)L4MM_RWX)
        return L4MM_EINVAL;
    if (f->nil || f->complete) {
        if ((f->nil && f->complete) || f->kind != L4MM_FPAGE_MEM || f->base != 0u || f->order != 0u)
            return L4MM_EINVAL;
        *w = (f->complete ? (uint64_t)1 << 4 : 0u) | f->rights;
        return L4MM_OK;
    }
    switch (f->kind) {
    case L4MM_FPAGE_MEM:
        if (f->order < X2_MIN_ORDER || f->order > x2_max_order(wb) ||
            (f->base & ipcmsg_lowmask(f->order)) != 0u || f->base > ipcmsg_wmask(wb))
            return L4MM_EINVAL;
        *w = f->base | ((uint64_t)f->order << 4) | f->rights;
        return L4MM_OK;
    case L4MM_FPAGE_IO:
        if (f->order > X2_IO_MAX_ORDER || f->base > 0xffffu ||
            (f->base & ipcmsg_lowmask(f->order)) != 0u)
            return L4MM_EINVAL;
        *w = (f->base << 16) | ((uint64_t)f->order << 10) | ((uint64_t)X2_IO_TAG << 4) | f->rights;
        return L4MM_OK;
    case L4MM_FPAGE_OBJ:
    default: return L4MM_EINVAL;
    }
}

l4mm_status l4mm_ipcmsg_x2_fpage_dec(uint64_t w, unsigned wb, struct l4mm_fpage *out)
{
    return ipcmsg_x2_fpage_dec(w, wb, out);
}

l4mm_status l4mm_ipcmsg_x2_item_enc(const struct l4mm_map_item *it, unsigned wb, uint64_t w[2])
{
    uint64_t fw;
    l4mm_status st;

    if (it->attr != 0u || (it->snd_base & 0x3ffu) != 0u || it->snd_base > ipcmsg_wmask(wb))
        return L4MM_EINVAL;
    st = l4mm_ipcmsg_x2_fpage_enc(&it->fpage, wb, &fw);
    if (st != L4MM_OK)
        return st;
    w[0] = it->snd_base | ((uint64_t)(it->grant ? X2_ITEM_GRANT : X2_ITEM_MAP) << 1) |
           (it->more ? 1u : 0u);
    w[1] = fw;
    return L4MM_OK;
}

l4mm_status l4mm_ipcmsg_x2_item_dec(uint64_t w0, uint64_t w1, unsigned wb,
                                    struct l4mm_map_item *out)
{
    return ipcmsg_x2_item_dec(w0, w1, wb, out);
}

l4mm_status l4mm_ipcmsg_x2_tag_enc(const struct l4mm_msgtag *t, unsigned wb, uint64_t *w)
{
    if (t->untyped > X2_FIELD6 || t->typed > X2_FIELD6 ||
        t->untyped + t->typed > L4MM_X2_NUM_MRS - 1u || t->flags > 15u ||
        !ipcmsg_label_fits(t->label, wb))
        return L4MM_EINVAL;
    *w = (ipcmsg_label_to_field(t->label, wb) << 16) | ((uint64_t)t->flags << 12) |
         ((uint64_t)t->typed << 6) | t->untyped;
    return L4MM_OK;
}

l4mm_status l4mm_ipcmsg_x2_tag_dec(uint64_t w, unsigned wb, struct l4mm_msgtag *out)
{
    return ipcmsg_x2_tag_dec(w, wb, out);
}

/* ---- public wrappers ------------------------------------------------------------------- */

l4mm_status l4mm_x2_fpage_encode(const struct l4mm_fpage *f, uint64_t *w)
{
    uint64_t v;
    l4mm_status st;
    if (f == NULL || w == NULL)
        return L4MM_EINVAL;
    st = l4mm_ipcmsg_x2_fpage_enc(f, 64u, &v);
    if (st == L4MM_OK)
        *w = v;
    return st;
}

l4mm_status l4mm_x2_fpage_decode(uint64_t w, struct l4mm_fpage *out)
{
    if (out == NULL)
        return L4MM_EINVAL;
    return l4mm_ipcmsg_x2_fpage_dec(w, 64u, out);
}

l4mm_status l4mm_x2_item_encode(const struct l4mm_map_item *it, uint64_t w[2])
{
    uint64_t v[2];
    l4mm_status st;
    if (it == NULL || w == NULL)
        return L4MM_EINVAL;
    st = l4mm_ipcmsg_x2_item_enc(it, 64u, v);
    if (st == L4MM_OK) {
        w[0] = v[0];
        w[1] = v[1];
    }
    return st;
}

l4mm_status l4mm_x2_item_decode(const uint64_t w[2], struct l4mm_map_item *out)
{
    if (w == NULL || out == NULL)
        return L4MM_EINVAL;
    return l4mm_ipcmsg_x2_item_dec(w[0], w[1], 64u, out);
}

l4mm_status l4mm_x2_tag_encode(const struct l4mm_msgtag *t, uint64_t *w)
{
    uint64_t v;
    l4mm_status st;
    if (t == NULL || w == NULL)
        return L4MM_EINVAL;
    st = l4mm_ipcmsg_x2_tag_enc(t, 64u, &v);
    if (st == L4MM_OK)
        *w = v;
    return st;
}

l4mm_status l4mm_x2_tag_decode(uint64_t w, struct l4mm_msgtag *out)
{
    if (out == NULL)
        return L4MM_EINVAL;
    return l4mm_ipcmsg_x2_tag_dec(w, 64u, out);
}

l4mm_status l4mm_x2_fpage_encode_32(const struct l4mm_fpage *f, uint32_t *w)
{
    uint64_t v;
    l4mm_status st;
    if (f == NULL || w == NULL)
        return L4MM_EINVAL;
    st = l4mm_ipcmsg_x2_fpage_enc(f, 32u, &v);
    if (st == L4MM_OK)
        *w = (uint32_t)v;
    return st;
}

l4mm_status l4mm_x2_fpage_decode_32(uint32_t w, struct l4mm_fpage *out)
{
    if (out == NULL)
        return L4MM_EINVAL;
    return l4mm_ipcmsg_x2_fpage_dec(w, 32u, out);
}

l4mm_status l4mm_x2_item_encode_32(const struct l4mm_map_item *it, uint32_t w[2])
{
    uint64_t v[2];
    l4mm_status st;
    if (it == NULL || w == NULL)
        return L4MM_EINVAL;
    st = l4mm_ipcmsg_x2_item_enc(it, 32u, v);
    if (st == L4MM_OK) {
        w[0] = (uint32_t)v[0];
        w[1] = (uint32_t)v[1];
    }
    return st;
}

l4mm_status l4mm_x2_item_decode_32(const uint32_t w[2], struct l4mm_map_item *out)
{
    if (w == NULL || out == NULL)
        return L4MM_EINVAL;
    return l4mm_ipcmsg_x2_item_dec(w[0], w[1], 32u, out);
}

l4mm_status l4mm_x2_tag_encode_32(const struct l4mm_msgtag *t, uint32_t *w)
{
    uint64_t v;
    l4mm_status st;
    if (t == NULL || w == NULL)
        return L4MM_EINVAL;
    st = l4mm_ipcmsg_x2_tag_enc(t, 32u, &v);
    if (st == L4MM_OK)
        *w = (uint32_t)v;
    return st;
}

l4mm_status l4mm_x2_tag_decode_32(uint32_t w, struct l4mm_msgtag *out)
{
    if (out == NULL)
        return L4MM_EINVAL;
    return l4mm_ipcmsg_x2_tag_dec(w, 32u, out);
}
