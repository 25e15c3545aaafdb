/*
 * x2_proto.c - L4 X.2 protocol words built on the fpage/item/tag codecs: the receive
 * acceptor (BR0), the unmap status bits, KIP memory descriptors, and the sigma0 RPC.
 *
 * Layouts (facts from Pistachio user/include/l4/message.h, kip.h, sigma0.h and
 * user/serv/sigma0/sigma0.cc):
 *
 *   acceptor   | window s and b fields (fpage bits 4+) | 0 : 2 | c : 1 | s : 1 |
 *   memdesc w0 | low >> 10 : wb-10 | v : 1 | 0 : 1 | t : 4 | type : 4 |
 *   memdesc w1 | high >> 10 : wb-10 | 0 : 10 |          high is inclusive (…3ff)
 *   sigma0 req | tag(label -6<<4, u 2, t 0) | fpage (any: base bits all ones) | attributes |
 *   sigma0 rep | tag(label 0, u 0, t 2) | map item (nilpage = no memory)
 *
 * Pistachio's L4_MapGrantItems() copies the window fpage word and clears only bits 0 and
 * 2-3, so a window with the W right sets the ctrlxfer bit; here window rights are refused.
 */
#include "ipcmsg/ipcmsg_internal.h"

/* ---- acceptor -------------------------------------------------------------------------- */

static l4mm_status acc_enc(const struct l4mm_x2_acceptor *a, unsigned wb, uint64_t *w)
{
    uint64_t fw = 0;
    l4mm_status st;

    if (a->window.rights != 0u || a->window.kind != L4MM_FPAGE_MEM)
        return L4MM_EINVAL;
    st = l4mm_ipcmsg_x2_fpage_enc(&a->window, wb, &fw);
    if (st != L4MM_OK)
        return st;
    *w = fw | (a->ctrlxfer ? 2u : 0u) | (a->strings ? 1u : 0u);
    return L4MM_OK;
}

static l4mm_status acc_dec(uint64_t w, unsigned wb, struct l4mm_x2_acceptor *out)
{
    struct l4mm_x2_acceptor a;
    l4mm_status st;

    if ((w & 0xcu) != 0u)
        return L4MM_EDECODE;
    st = l4mm_ipcmsg_x2_fpage_dec(w & ~(uint64_t)0xf, wb, &a.window);
    if (st != L4MM_OK)
        return st;
    if (a.window.kind != L4MM_FPAGE_MEM)
        return L4MM_EDECODE;
    a.strings = (w & 1u) != 0u;
    a.ctrlxfer = (w & 2u) != 0u;
    *out = a;
    return L4MM_OK;
}

l4mm_status l4mm_x2_acceptor_encode(const struct l4mm_x2_acceptor *a, uint64_t *w)
{
    uint64_t v;
    l4mm_status st;
    if (a == NULL || w == NULL)
        return L4MM_EINVAL;
    st = acc_enc(a, 64u, &v);
    if (st == L4MM_OK)
        *w = v;
    return st;
}

l4mm_status l4mm_x2_acceptor_decode(uint64_t w, struct l4mm_x2_acceptor *out)
{
    if (out == NULL)
        return L4MM_EINVAL;
    return acc_dec(w, 64u, out);
}

l4mm_status l4mm_x2_acceptor_encode_32(const struct l4mm_x2_acceptor *a, uint32_t *w)
{
    uint64_t v;
    l4mm_status st;
    if (a == NULL || w == NULL)
        return L4MM_EINVAL;
    st = acc_enc(a, 32u, &v);
    if (st == L4MM_OK)
        *w = (uint32_t)v;
    return st;
}

l4mm_status l4mm_x2_acceptor_decode_32(uint32_t w, struct l4mm_x2_acceptor *out)
{
    if (out == NULL)
        return L4MM_EINVAL;
    return acc_dec(w, 32u, out);
}

/* ---- unmap status ---------------------------------------------------------------------- */

static l4mm_status unmap_enc(const struct l4mm_fpage *f, unsigned status, unsigned wb, uint64_t *w)
{
    struct l4mm_fpage g;
    if (status > 7u || f->rights != 0u)
        return L4MM_EINVAL;
    g = *f;
    g.rights = status;
    return l4mm_ipcmsg_x2_fpage_enc(&g, wb, w);
}

static l4mm_status unmap_dec(uint64_t w, unsigned wb, struct l4mm_fpage *f, unsigned *status)
{
    struct l4mm_fpage g;
    l4mm_status st = l4mm_ipcmsg_x2_fpage_dec(w, wb, &g);
    if (st != L4MM_OK)
        return st;
    *status = g.rights;
    g.rights = 0u;
    *f = g;
    return L4MM_OK;
}

l4mm_status l4mm_x2_unmap_status_encode(const struct l4mm_fpage *f, unsigned status, uint64_t *w)
{
    uint64_t v;
    l4mm_status st;
    if (f == NULL || w == NULL)
        return L4MM_EINVAL;
    st = unmap_enc(f, status, 64u, &v);
    if (st == L4MM_OK)
        *w = v;
    return st;
}

l4mm_status l4mm_x2_unmap_status_decode(uint64_t w, struct l4mm_fpage *f, unsigned *status)
{
    if (f == NULL || status == NULL)
        return L4MM_EINVAL;
    return unmap_dec(w, 64u, f, status);
}

l4mm_status l4mm_x2_unmap_status_encode_32(const struct l4mm_fpage *f, unsigned status, uint32_t *w)
{
    uint64_t v;
    l4mm_status st;
    if (f == NULL || w == NULL)
        return L4MM_EINVAL;
    st = unmap_enc(f, status, 32u, &v);
    if (st == L4MM_OK)
        *w = (uint32_t)v;
    return st;
}

l4mm_status l4mm_x2_unmap_status_decode_32(uint32_t w, struct l4mm_fpage *f, unsigned *status)
{
    if (f == NULL || status == NULL)
        return L4MM_EINVAL;
    return unmap_dec(w, 32u, f, status);
}

/* ---- KIP memory descriptors ------------------------------------------------------------ */

static bool memdesc_subtype_ok(unsigned type, unsigned subtype)
{
    return subtype == 0u || type >= (unsigned)L4MM_KIP_MEM_BOOTLOADER;
}

static l4mm_status md_enc(const struct l4mm_kip_memdesc *d, unsigned wb, uint64_t w[2])
{
    if (d->type > 15u || d->subtype > 15u || !memdesc_subtype_ok(d->type, d->subtype) ||
        (d->low & 0x3ffu) != 0u || (d->high & 0x3ffu) != 0x3ffu || d->low > d->high ||
        d->high > ipcmsg_wmask(wb))
        return L4MM_EINVAL;
    w[0] = d->low | (d->virt ? (uint64_t)1 << 9 : 0u) | ((uint64_t)d->subtype << 4) | d->type;
    w[1] = d->high & ~(uint64_t)0x3ff;
    return L4MM_OK;
}

static l4mm_status md_dec(uint64_t w0, uint64_t w1, struct l4mm_kip_memdesc *out)
{
    struct l4mm_kip_memdesc d;

    d.type = (unsigned)w0 & 15u;
    d.subtype = (unsigned)(w0 >> 4) & 15u;
    d.virt = ((w0 >> 9) & 1u) != 0u;
    d.low = w0 & ~(uint64_t)0x3ff;
    d.high = w1 | 0x3ffu;
    if ((w0 & 0x100u) != 0u || (w1 & 0x3ffu) != 0u || !memdesc_subtype_ok(d.type, d.subtype) ||
        d.low > d.high)
        return L4MM_EDECODE;
    *out = d;
    return L4MM_OK;
}

l4mm_status l4mm_x2_kip_memdesc_encode(const struct l4mm_kip_memdesc *d, uint64_t w[2])
{
    uint64_t v[2];
    l4mm_status st;
    if (d == NULL || w == NULL)
        return L4MM_EINVAL;
    st = md_enc(d, 64u, v);
    if (st == L4MM_OK) {
        w[0] = v[0];
        w[1] = v[1];
    }
    return st;
}

l4mm_status l4mm_x2_kip_memdesc_decode(const uint64_t w[2], struct l4mm_kip_memdesc *out)
{
    if (w == NULL || out == NULL)
        return L4MM_EINVAL;
    return md_dec(w[0], w[1], out);
}

l4mm_status l4mm_x2_kip_memdesc_encode_32(const struct l4mm_kip_memdesc *d, uint32_t w[2])
{
    uint64_t v[2];
    l4mm_status st;
    if (d == NULL || w == NULL)
        return L4MM_EINVAL;
    st = md_enc(d, 32u, v);
    if (st == L4MM_OK) {
        w[0] = (uint32_t)v[0];
        w[1] = (uint32_t)v[1];
    }
    return st;
}

l4mm_status l4mm_x2_kip_memdesc_decode_32(const uint32_t w[2], struct l4mm_kip_memdesc *out)
{
    if (w == NULL || out == NULL)
        return L4MM_EINVAL;
    return md_dec(w[0], w[1], out);
}

/* ---- sigma0 ---------------------------------------------------------------------------- */

static l4mm_status s0req_enc(const struct l4mm_x2_sigma0_req *r, unsigned wb, uint64_t mr[4],
                             size_t *n)
{
    struct l4mm_msgtag tag = { L4MM_X2_SIGMA0_LABEL, 2u, 0u, 0u };
    struct l4mm_fpage f = r->fpage;
    uint64_t fw = 0, tw = 0, high = 0;
    l4mm_status st;

    if (f.nil || f.complete || r->attr > ipcmsg_wmask(wb))
        return L4MM_EINVAL;
    if (r->any) {
        /* "any page": only order and rights are given; the base field is all ones */
        if (f.kind != L4MM_FPAGE_MEM || f.base != 0u)
            return L4MM_EINVAL;
        st = l4mm_ipcmsg_x2_fpage_enc(&f, wb, &fw);
        if (st != L4MM_OK)
            return st;
        fw |= ipcmsg_wmask(wb) & ~(uint64_t)0x3ff;
    } else {
        if (f.kind == L4MM_FPAGE_MEM && wb < 64u && f.base > ipcmsg_wmask(wb)) {
            /* extended request: MR3 carries the physical address bits above the word */
            if ((f.base & ipcmsg_lowmask(f.order < 64u ? f.order : 63u)) != 0u)
                return L4MM_EINVAL;
            high = f.base >> wb;
            f.base &= ipcmsg_wmask(wb);
            tag.untyped = 3u;
        }
        st = l4mm_ipcmsg_x2_fpage_enc(&f, wb, &fw);
        if (st != L4MM_OK)
            return st;
        /* base bits all ones would read as "any page" */
        if (f.kind == L4MM_FPAGE_MEM && (fw >> 10) == (ipcmsg_wmask(wb) >> 10) && high == 0u)
            return L4MM_EINVAL;
    }
    (void)l4mm_ipcmsg_x2_tag_enc(&tag, wb, &tw);
    mr[0] = tw;
    mr[1] = fw;
    mr[2] = r->attr;
    if (tag.untyped == 3u)
        mr[3] = high;
    *n = 1u + tag.untyped;
    return L4MM_OK;
}

static l4mm_status s0req_dec(const uint64_t *mr, size_t n_mr, unsigned wb,
                             struct l4mm_x2_sigma0_req *out)
{
    struct l4mm_x2_sigma0_req r;
    struct l4mm_msgtag tag;
    uint64_t fw;
    l4mm_status st;

    if (n_mr < 1u)
        return L4MM_EDECODE;
    st = l4mm_ipcmsg_x2_tag_dec(mr[0], wb, &tag);
    if (st != L4MM_OK)
        return st;
    if (tag.label != L4MM_X2_SIGMA0_LABEL || (tag.flags & L4MM_TAG_FLAG_ERROR) != 0u ||
        tag.typed != 0u || (tag.untyped != 2u && tag.untyped != 3u) || n_mr < 1u + tag.untyped)
        return L4MM_EDECODE;
    fw = mr[1];
    r.attr = mr[2];
    r.any = (fw >> 10) == (ipcmsg_wmask(wb) >> 10) && ((fw >> 4) & 0x3fu) != 2u;
    if (r.any) {
        /* Pistachio's L4_Sigma0_GetAny() leaves reserved bit 3 set: accept it */
        st = l4mm_ipcmsg_x2_fpage_dec(fw & (uint64_t)0x3f7, wb, &r.fpage);
        if (st == L4MM_OK && (r.fpage.nil || r.fpage.complete))
            st = L4MM_EDECODE;
        if (st == L4MM_OK && tag.untyped == 3u && mr[3] != 0u)
            st = L4MM_EDECODE;
    } else {
        st = l4mm_ipcmsg_x2_fpage_dec(fw, wb, &r.fpage);
        if (st == L4MM_OK && (r.fpage.nil || r.fpage.complete))
            st = L4MM_EDECODE;
        if (st == L4MM_OK && tag.untyped == 3u) {
            if (mr[3] != 0u && (wb >= 64u || r.fpage.kind != L4MM_FPAGE_MEM))
                st = L4MM_EDECODE;
            else if (wb < 64u)
                r.fpage.base |= mr[3] << wb;
        }
    }
    if (st != L4MM_OK)
        return st;
    *out = r;
    return L4MM_OK;
}

l4mm_status l4mm_x2_sigma0_req_encode(const struct l4mm_x2_sigma0_req *r, uint64_t mr[4], size_t *n)
{
    uint64_t v[4] = { 0, 0, 0, 0 };
    size_t k = 0, i;
    l4mm_status st;
    if (r == NULL || mr == NULL || n == NULL)
        return L4MM_EINVAL;
    st = s0req_enc(r, 64u, v, &k);
    if (st != L4MM_OK)
        return st;
    for (i = 0; i < k; i++)
        mr[i] = v[i];
    *n = k;
    return L4MM_OK;
}

l4mm_status l4mm_x2_sigma0_req_decode(const uint64_t *mr, size_t n_mr,
                                      struct l4mm_x2_sigma0_req *out)
{
    if (mr == NULL || out == NULL)
        return L4MM_EINVAL;
    return s0req_dec(mr, n_mr, 64u, out);
}

l4mm_status l4mm_x2_sigma0_req_encode_32(const struct l4mm_x2_sigma0_req *r, uint32_t mr[4],
                                         size_t *n)
{
    uint64_t v[4] = { 0, 0, 0, 0 };
    size_t k = 0, i;
    l4mm_status st;
    if (r == NULL || mr == NULL || n == NULL)
        return L4MM_EINVAL;
    st = s0req_enc(r, 32u, v, &k);
    if (st != L4MM_OK)
        return st;
    for (i = 0; i < k; i++)
        mr[i] = (uint32_t)v[i];
    *n = k;
    return L4MM_OK;
}

l4mm_status l4mm_x2_sigma0_req_decode_32(const uint32_t *mr, size_t n_mr,
                                         struct l4mm_x2_sigma0_req *out)
{
    uint64_t v[4] = { 0, 0, 0, 0 };
    size_t i;
    if (mr == NULL || out == NULL)
        return L4MM_EINVAL;
    for (i = 0; i < n_mr && i < 4u; i++)
        v[i] = mr[i];
    return s0req_dec(v, n_mr < 4u ? n_mr : 4u, 32u, out);
}

static l4mm_status s0rep_enc(const struct l4mm_map_item *it, unsigned wb, uint64_t mr[3])
{
    static const struct l4mm_map_item no_memory = {
        { L4MM_FPAGE_MEM, 0u, 0u, 0u, true, false }, 0u, false, false, 0u
    };
    struct l4mm_msgtag tag = { 0, 0u, 2u, 0u };
    uint64_t w[2];
    l4mm_status st = l4mm_ipcmsg_x2_item_enc(it != NULL ? it : &no_memory, wb, w);
    if (st != L4MM_OK)
        return st;
    (void)l4mm_ipcmsg_x2_tag_enc(&tag, wb, &mr[0]);
    mr[1] = w[0];
    mr[2] = w[1];
    return L4MM_OK;
}

static l4mm_status s0rep_dec(const uint64_t *mr, size_t n_mr, unsigned wb,
                             struct l4mm_map_item *out)
{
    struct l4mm_msgtag tag;
    l4mm_status st;
    if (n_mr < 1u)
        return L4MM_EDECODE;
    st = l4mm_ipcmsg_x2_tag_dec(mr[0], wb, &tag);
    if (st != L4MM_OK)
        return st;
    if (tag.untyped != 0u || tag.typed != 2u || (tag.flags & L4MM_TAG_FLAG_ERROR) != 0u ||
        n_mr < 3u)
        return L4MM_EDECODE;
    return l4mm_ipcmsg_x2_item_dec(mr[1], mr[2], wb, out);
}

l4mm_status l4mm_x2_sigma0_reply_encode(const struct l4mm_map_item *it, uint64_t mr[3])
{
    uint64_t v[3];
    l4mm_status st;
    if (mr == NULL)
        return L4MM_EINVAL;
    st = s0rep_enc(it, 64u, v);
    if (st == L4MM_OK) {
        mr[0] = v[0];
        mr[1] = v[1];
        mr[2] = v[2];
    }
    return st;
}

l4mm_status l4mm_x2_sigma0_reply_decode(const uint64_t *mr, size_t n_mr, struct l4mm_map_item *out)
{
    if (mr == NULL || out == NULL)
        return L4MM_EINVAL;
    return s0rep_dec(mr, n_mr, 64u, out);
}

l4mm_status l4mm_x2_sigma0_reply_encode_32(const struct l4mm_map_item *it, uint32_t mr[3])
{
    uint64_t v[3];
    l4mm_status st;
    if (mr == NULL)
        return L4MM_EINVAL;
    st = s0rep_enc(it, 32u, v);
    if (st == L4MM_OK) {
        mr[0] = (uint32_t)v[0];
        mr[1] = (uint32_t)v[1];
        mr[2] = (uint32_t)v[2];
    }
    return st;
}

l4mm_status l4mm_x2_sigma0_reply_decode_32(const uint32_t *mr, size_t n_mr,
                                           struct l4mm_map_item *out)
{
    uint64_t v[3] = { 0, 0, 0 };
    size_t i;
    if (mr == NULL || out == NULL)
        return L4MM_EINVAL;
    for (i = 0; i < n_mr && i < 3u; i++)
        v[i] = mr[i];
    return s0rep_dec(v, n_mr < 3u ? n_mr : 3u, 32u, out);
}
