/**
 * @file ipcmsg.h
 * @brief Bit-exact codecs for the L4 X.2 (L4Ka::Pistachio) and Fiasco.OC/L4Re map/grant wire
 *        formats, validating message parsers, and bounded allocation-free message queues.
 *
 * Every codec exists for 64-bit words (no suffix) and for 32-bit words (suffix `_32`, with
 * `uint32_t` in place of `uint64_t`). Encoders refuse what the format cannot express
 * (::L4MM_EINVAL): a base not aligned to the fpage size, an order outside the field's range,
 * rights beyond the field, a nil or complete fpage with other fields set, a label that does
 * not fit. Decoders refuse words no conforming kernel would produce (::L4MM_EDECODE): reserved
 * bits set, impossible sizes, unknown item types. A word that decodes re-encodes to itself
 * (tags: the identical word; fpages and items: the same fields).
 *
 * Errors leave every output untouched. No function here allocates, blocks, touches global
 * state or reads outside the buffers it is given. The codecs and parsers are pure functions,
 * safe from any context (interrupt handlers included) and cost O(1), parsers O(n_items).
 *
 * Format sources (facts only, see docs/ipcmsg.md and the comments in tests/test_ipcmsg*.c):
 * L4Ka::Pistachio user/include/l4/{types,message,sigma0,kip}.h, user/include/l4/ia32/arch.h,
 * user/serv/sigma0/sigma0.cc; L4Re l4sys/include/{__l4_fpage.h,consts.h,types.h},
 * l4sys/include/ARCH-{x86,amd64}/utcb.h.
 */
#ifndef L4MM_IPCMSG_H
#define L4MM_IPCMSG_H

#include <l4mm/status.h>
#include <l4mm/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- common value types --------------------------------------------------------------- */

/** @brief What an fpage's base counts: bytes, I/O ports or capability slots. */
enum l4mm_fpage_kind {
    L4MM_FPAGE_MEM, /**< memory: base is an address in bytes */
    L4MM_FPAGE_IO,  /**< x86 I/O ports: base is a port number (0..65535) */
    L4MM_FPAGE_OBJ  /**< kernel objects (L4Re only): base is a capability index */
};

/**
 * @brief A flexpage: a naturally aligned region of 2^order units plus access rights.
 *
 * For a nil or complete fpage only #kind, #nil / #complete and #rights are meaningful and the
 * other fields are 0 (encoders refuse anything else; #kind must then be ::L4MM_FPAGE_MEM).
 */
struct l4mm_fpage {
    enum l4mm_fpage_kind kind; /**< unit of #base and #order */
    l4mm_addr_t base;          /**< address / port / capability index, aligned to 2^order */
    unsigned order;            /**< log2 of the size, in the units of #kind */
    unsigned rights;           /**< ::L4MM_R / ::L4MM_W / ::L4MM_X (L4Re objects: 4 bits) */
    bool nil;                  /**< the nil fpage (X.2 nilpage, L4Re invalid fpage) */
    bool complete;             /**< X.2 complete address space / L4Re all-spaces fpage */
};

/** @brief A map or grant item: the send fpage plus its control word. */
struct l4mm_map_item {
    struct l4mm_fpage fpage; /**< what is sent */
    l4mm_addr_t snd_base;    /**< X.2: send base in bytes (1 KiB aligned); L4Re: hot spot in
                                  the units of the fpage kind (bytes 4 KiB aligned, ports, caps) */
    bool grant;              /**< grant (move) instead of map (copy) */
    bool more;               /**< X.2 continuation bit C / L4Re compound bit */
    unsigned attr;           /**< item word bits 4-7 shifted down (0..15); always 0 in X.2 */
};

/** @brief A message tag (MR0 in X.2; the tag register in L4Re). */
struct l4mm_msgtag {
    int64_t label;    /**< sign-extended from the field (48 bits on 64-bit, 16 on 32-bit) */
    unsigned untyped; /**< untyped words (0..63) */
    unsigned typed;   /**< X.2: typed *words*; L4Re: typed *items* */
    unsigned flags;   /**< tag bits 12-15 shifted down: bit 3 = error (E) */
};

/** @brief Tag flag bit 3 (tag bit 15): the IPC failed (X.2 E, L4Re L4_MSGTAG_ERROR). */
#define L4MM_TAG_FLAG_ERROR 8u

/* ---- L4 X.2 (L4Ka::Pistachio) ----------------------------------------------------------- */

/** @brief X.2 sigma0 protocol request label, -6 << 4 (before sign extension: 0xffa0...). */
#define L4MM_X2_SIGMA0_LABEL (-96)
/** @brief Number of X.2 message registers, MR0 (the tag) included. */
#define L4MM_X2_NUM_MRS 64u

/**
 * @brief Encode an X.2 fpage (memory, nil, complete, or the x86 I/O fpage).
 *
 * Memory: order 10..63 (10..32 with 32-bit words), base aligned to 2^order and inside the
 * word. I/O: order 0..16, port aligned to 2^order and below 65536. Rights 0..7.
 * @param f  the fpage.
 * @param w  receives the word.
 * @return ::L4MM_OK; ::L4MM_EINVAL if a pointer is NULL or the format cannot express @p f
 *         (kind ::L4MM_FPAGE_OBJ, misaligned base, order or rights out of range, nil and
 *         complete both set, nil/complete with a non-MEM kind or a nonzero base/order).
 * @par Cost O(1); pure, thread- and interrupt-safe; never writes @p w on error.
 */
l4mm_status l4mm_x2_fpage_encode(const struct l4mm_fpage *f, uint64_t *w);
/**
 * @brief Decode an X.2 fpage word.
 * @param w    the word.
 * @param out  receives the fields (unused fields 0).
 * @return ::L4MM_OK; ::L4MM_EINVAL if @p out is NULL; ::L4MM_EDECODE if reserved bit 3 is
 *         set, the size field is 2..9 (or above 32 with 32-bit words), the base is not
 *         aligned, a nil/complete word has base bits set, or an I/O fpage is malformed.
 * @par Cost O(1); pure; never writes @p out on error.
 */
l4mm_status l4mm_x2_fpage_decode(uint64_t w, struct l4mm_fpage *out);
/**
 * @brief Encode an X.2 MapItem / GrantItem (w[0] = control word, w[1] = fpage).
 * @param it  the item; attr must be 0, snd_base 1 KiB aligned.
 * @param w   receives the two words.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers, attr != 0, a misaligned or too large
 *         snd_base, or an fpage that l4mm_x2_fpage_encode() refuses.
 * @par Cost O(1); pure; never writes @p w on error.
 */
l4mm_status l4mm_x2_item_encode(const struct l4mm_map_item *it, uint64_t w[2]);
/**
 * @brief Decode an X.2 MapItem / GrantItem.
 * @param w    the two words.
 * @param out  receives the item.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers; ::L4MM_EDECODE if the item type is not
 *         map (100b) or grant (101b), bits 4-9 of w[0] are set, or w[1] is not a valid fpage.
 * @par Cost O(1); pure; never writes @p out on error.
 */
l4mm_status l4mm_x2_item_decode(const uint64_t w[2], struct l4mm_map_item *out);
/**
 * @brief Encode an X.2 message tag (u bits 0-5, t bits 6-11, flags 12-15, label 16+).
 * @param t  the tag; untyped + typed <= 63 (64 MRs, MR0 is the tag).
 * @param w  receives the word.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers, untyped/typed > 63 or summing above
 *         63, flags > 15, or a label outside the signed 48-bit (16-bit) field.
 * @par Cost O(1); pure; never writes @p w on error.
 */
l4mm_status l4mm_x2_tag_encode(const struct l4mm_msgtag *t, uint64_t *w);
/**
 * @brief Decode an X.2 message tag; the result re-encodes to the identical word.
 * @param w    the word.
 * @param out  receives the tag.
 * @return ::L4MM_OK; ::L4MM_EINVAL if @p out is NULL; ::L4MM_EDECODE if u + t > 63.
 * @par Cost O(1); pure; never writes @p out on error.
 */
l4mm_status l4mm_x2_tag_decode(uint64_t w, struct l4mm_msgtag *out);

/** @brief l4mm_x2_fpage_encode() for 32-bit words. @param f fpage. @param w word.
 *  @return as l4mm_x2_fpage_encode(). @par Cost O(1); pure. */
l4mm_status l4mm_x2_fpage_encode_32(const struct l4mm_fpage *f, uint32_t *w);
/** @brief l4mm_x2_fpage_decode() for 32-bit words. @param w word. @param out fpage.
 *  @return as l4mm_x2_fpage_decode(). @par Cost O(1); pure. */
l4mm_status l4mm_x2_fpage_decode_32(uint32_t w, struct l4mm_fpage *out);
/** @brief l4mm_x2_item_encode() for 32-bit words. @param it item. @param w words.
 *  @return as l4mm_x2_item_encode(). @par Cost O(1); pure. */
l4mm_status l4mm_x2_item_encode_32(const struct l4mm_map_item *it, uint32_t w[2]);
/** @brief l4mm_x2_item_decode() for 32-bit words. @param w words. @param out item.
 *  @return as l4mm_x2_item_decode(). @par Cost O(1); pure. */
l4mm_status l4mm_x2_item_decode_32(const uint32_t w[2], struct l4mm_map_item *out);
/** @brief l4mm_x2_tag_encode() for 32-bit words (16-bit label). @param t tag. @param w word.
 *  @return as l4mm_x2_tag_encode(). @par Cost O(1); pure. */
l4mm_status l4mm_x2_tag_encode_32(const struct l4mm_msgtag *t, uint32_t *w);
/** @brief l4mm_x2_tag_decode() for 32-bit words. @param w word. @param out tag.
 *  @return as l4mm_x2_tag_decode(). @par Cost O(1); pure. */
l4mm_status l4mm_x2_tag_decode_32(uint32_t w, struct l4mm_msgtag *out);

/**
 * @brief X.2 receive acceptor (BR0): bit 0 string items, bit 1 ctrlxfer items, bits 2-3 zero,
 *        bits 4+ the receive window's size and base fields.
 */
struct l4mm_x2_acceptor {
    bool strings;             /**< accept string items (s) */
    bool ctrlxfer;            /**< accept control-transfer items (c) */
    struct l4mm_fpage window; /**< map/grant receive window: nil = none; rights must be 0 */
};
/**
 * @brief Encode BR0. Unlike Pistachio's helper, the window's rights never leak into the s/c
 *        bits: a window with rights is refused.
 * @param a  the acceptor; window kind MEM (or nil/complete) with rights 0.
 * @param w  receives the word.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers, window rights != 0, a non-MEM window,
 *         or a window l4mm_x2_fpage_encode() refuses.
 * @par Cost O(1); pure; never writes @p w on error.
 */
l4mm_status l4mm_x2_acceptor_encode(const struct l4mm_x2_acceptor *a, uint64_t *w);
/**
 * @brief Decode BR0.
 * @param w    the word.
 * @param out  receives the acceptor.
 * @return ::L4MM_OK; ::L4MM_EINVAL if @p out is NULL; ::L4MM_EDECODE if bits 2-3 are set or
 *         the window is not a valid memory/nil/complete fpage.
 * @par Cost O(1); pure; never writes @p out on error.
 */
l4mm_status l4mm_x2_acceptor_decode(uint64_t w, struct l4mm_x2_acceptor *out);
/** @brief l4mm_x2_acceptor_encode() for 32-bit words. @param a acceptor. @param w word.
 *  @return as l4mm_x2_acceptor_encode(). @par Cost O(1); pure. */
l4mm_status l4mm_x2_acceptor_encode_32(const struct l4mm_x2_acceptor *a, uint32_t *w);
/** @brief l4mm_x2_acceptor_decode() for 32-bit words. @param w word. @param out acceptor.
 *  @return as l4mm_x2_acceptor_decode(). @par Cost O(1); pure. */
l4mm_status l4mm_x2_acceptor_decode_32(uint32_t w, struct l4mm_x2_acceptor *out);

/** @brief Unmap status bits: returned in the rights field of each fpage after X.2 Unmap. */
enum l4mm_unmap_status {
    L4MM_UNMAP_EXECUTED = 1u,  /**< the page was executed (X position) */
    L4MM_UNMAP_DIRTY = 2u,     /**< the page was written (W position) */
    L4MM_UNMAP_REFERENCED = 4u /**< the page was referenced (R position) */
};
/**
 * @brief Encode the fpage word the kernel returns from Unmap: the rights field carries the
 *        status bits.
 * @param f       the fpage; its rights must be 0 (the field holds the status instead).
 * @param status  ::l4mm_unmap_status bits, 0..7.
 * @param w       receives the word.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers, status > 7, f->rights != 0, or an fpage
 *         l4mm_x2_fpage_encode() refuses.
 * @par Cost O(1); pure; never writes @p w on error.
 */
l4mm_status l4mm_x2_unmap_status_encode(const struct l4mm_fpage *f, unsigned status, uint64_t *w);
/**
 * @brief Decode an fpage word returned by X.2 Unmap into the fpage (rights 0) and its status.
 * @param w       the word.
 * @param f       receives the fpage with rights 0.
 * @param status  receives the ::l4mm_unmap_status bits.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers; ::L4MM_EDECODE as
 *         l4mm_x2_fpage_decode().
 * @par Cost O(1); pure; never writes an output on error.
 */
l4mm_status l4mm_x2_unmap_status_decode(uint64_t w, struct l4mm_fpage *f, unsigned *status);
/** @brief l4mm_x2_unmap_status_encode() for 32-bit words. @param f fpage. @param status bits.
 *  @param w word. @return as the 64-bit variant. @par Cost O(1); pure. */
l4mm_status l4mm_x2_unmap_status_encode_32(const struct l4mm_fpage *f, unsigned status,
                                           uint32_t *w);
/** @brief l4mm_x2_unmap_status_decode() for 32-bit words. @param w word. @param f fpage.
 *  @param status bits. @return as the 64-bit variant. @par Cost O(1); pure. */
l4mm_status l4mm_x2_unmap_status_decode_32(uint32_t w, struct l4mm_fpage *f, unsigned *status);

/** @brief X.2 KIP memory-descriptor types (the type field, bits 0-3). */
enum l4mm_kip_mem_type {
    L4MM_KIP_MEM_UNDEFINED = 0x0,    /**< undefined */
    L4MM_KIP_MEM_CONVENTIONAL = 0x1, /**< conventional RAM */
    L4MM_KIP_MEM_RESERVED = 0x2,     /**< reserved (e.g. by the kernel) */
    L4MM_KIP_MEM_DEDICATED = 0x3,    /**< dedicated (e.g. device memory) */
    L4MM_KIP_MEM_SHARED = 0x4,       /**< shared */
    L4MM_KIP_MEM_BOOTLOADER = 0xe,   /**< boot-loader specific; subtype meaningful */
    L4MM_KIP_MEM_ARCH = 0xf          /**< architecture specific; subtype meaningful */
};
/**
 * @brief An X.2 KIP memory descriptor: w[0] = type (0-3), subtype t (4-7), reserved bit 8,
 *        virtual flag v (9), low >> 10 (10+); w[1] = reserved (0-9), high >> 10 (10+).
 */
struct l4mm_kip_memdesc {
    unsigned type;    /**< ::l4mm_kip_mem_type value, 0..15 */
    unsigned subtype; /**< 0..15; must be 0 unless type is 0xe or 0xf */
    bool virt;        /**< describes virtual (not physical) memory */
    l4mm_addr_t low;  /**< first byte, 1 KiB aligned */
    l4mm_addr_t high; /**< last byte (inclusive): its low 10 bits are all ones */
};
/**
 * @brief Encode a KIP memory descriptor.
 * @param d  the descriptor.
 * @param w  receives the two words.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers, type/subtype > 15, a subtype with a
 *         type below 0xe, low not 1 KiB aligned, high not ending a 1 KiB unit, low > high, or
 *         an address beyond the word.
 * @par Cost O(1); pure; never writes @p w on error.
 */
l4mm_status l4mm_x2_kip_memdesc_encode(const struct l4mm_kip_memdesc *d, uint64_t w[2]);
/**
 * @brief Decode a KIP memory descriptor.
 * @param w    the two words.
 * @param out  receives the descriptor.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers; ::L4MM_EDECODE if a reserved bit is
 *         set, a subtype is given for a type below 0xe, or low > high.
 * @par Cost O(1); pure; never writes @p out on error.
 */
l4mm_status l4mm_x2_kip_memdesc_decode(const uint64_t w[2], struct l4mm_kip_memdesc *out);
/** @brief l4mm_x2_kip_memdesc_encode() for 32-bit words. @param d descriptor. @param w words.
 *  @return as the 64-bit variant. @par Cost O(1); pure. */
l4mm_status l4mm_x2_kip_memdesc_encode_32(const struct l4mm_kip_memdesc *d, uint32_t w[2]);
/** @brief l4mm_x2_kip_memdesc_decode() for 32-bit words. @param w words. @param out
 *  descriptor. @return as the 64-bit variant. @par Cost O(1); pure. */
l4mm_status l4mm_x2_kip_memdesc_decode_32(const uint32_t w[2], struct l4mm_kip_memdesc *out);

/**
 * @brief An X.2 sigma0 RPC request: MR0 tag (label -6<<4, u = 2 or 3, t = 0), MR1 the fpage
 *        (base all ones = "any page"), MR2 the attributes, MR3 (32-bit words only, u = 3) the
 *        physical address bits above bit 31.
 */
struct l4mm_x2_sigma0_req {
    struct l4mm_fpage fpage; /**< MEM or I/O fpage wanted; for #any only order and rights */
    bool any;                /**< "any page" of size 2^order: the base field is all ones */
    uint64_t attr;           /**< memory attributes word (0 = default) */
};
/**
 * @brief Encode a sigma0 request into mr[0..n-1].
 * @param r    the request. With 32-bit words a MEM base at or above 4 GiB is sent with the
 *             extended third word (u = 3).
 * @param mr   receives up to 4 words.
 * @param n    receives the number of words written (3 or 4).
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers, an fpage the format cannot express,
 *         attr beyond the word (32-bit), an "any" request with a nonzero base or a
 *         non-MEM kind, a nil/complete fpage, or a specific page whose base bits are all
 *         ones (it would read as "any page").
 * @par Cost O(1); pure; never writes an output on error.
 */
l4mm_status l4mm_x2_sigma0_req_encode(const struct l4mm_x2_sigma0_req *r, uint64_t mr[4],
                                      size_t *n);
/**
 * @brief Decode a sigma0 request from mr[0..n_mr-1] (never reads past n_mr).
 *
 * Accepts the base-all-ones "any page" fpage with reserved bit 3 set as well, because
 * Pistachio's own L4_Sigma0_GetAny() produces it; it re-encodes with the bit clear.
 * @param mr    the message registers (mr[0] is the tag).
 * @param n_mr  number of valid words in @p mr.
 * @param out   receives the request.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers; ::L4MM_EDECODE if the label is not
 *         -6<<4, the error flag is set, t != 0, u is not 2 or 3, n_mr is too small, the fpage
 *         is invalid or nil/complete, or the third word is nonzero where it cannot apply.
 * @par Cost O(1); pure; never writes @p out on error.
 */
l4mm_status l4mm_x2_sigma0_req_decode(const uint64_t *mr, size_t n_mr,
                                      struct l4mm_x2_sigma0_req *out);
/** @brief l4mm_x2_sigma0_req_encode() for 32-bit words. @param r request. @param mr words.
 *  @param n word count. @return as the 64-bit variant. @par Cost O(1); pure. */
l4mm_status l4mm_x2_sigma0_req_encode_32(const struct l4mm_x2_sigma0_req *r, uint32_t mr[4],
                                         size_t *n);
/** @brief l4mm_x2_sigma0_req_decode() for 32-bit words. @param mr words. @param n_mr count.
 *  @param out request. @return as the 64-bit variant. @par Cost O(1); pure. */
l4mm_status l4mm_x2_sigma0_req_decode_32(const uint32_t *mr, size_t n_mr,
                                         struct l4mm_x2_sigma0_req *out);
/**
 * @brief Encode sigma0's reply: tag (label 0, u 0, t 2) and one map item; @p it NULL gives
 *        the nil item (map item of the nilpage, send base 0) that means "no memory".
 * @param it  the item to send, or NULL for "no memory".
 * @param mr  receives the three words.
 * @return ::L4MM_OK; ::L4MM_EINVAL if @p mr is NULL or l4mm_x2_item_encode() refuses @p it.
 * @par Cost O(1); pure; never writes @p mr on error.
 */
l4mm_status l4mm_x2_sigma0_reply_encode(const struct l4mm_map_item *it, uint64_t mr[3]);
/**
 * @brief Decode sigma0's reply. "No memory" decodes to an item whose fpage.nil is true.
 * @param mr    the message registers (mr[0] is the tag).
 * @param n_mr  number of valid words.
 * @param out   receives the item.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers; ::L4MM_EDECODE if the tag is not
 *         (u 0, t 2, no error flag), n_mr < 3, or the item is invalid.
 * @par Cost O(1); pure; never writes @p out on error.
 */
l4mm_status l4mm_x2_sigma0_reply_decode(const uint64_t *mr, size_t n_mr, struct l4mm_map_item *out);
/** @brief l4mm_x2_sigma0_reply_encode() for 32-bit words. @param it item or NULL.
 *  @param mr words. @return as the 64-bit variant. @par Cost O(1); pure. */
l4mm_status l4mm_x2_sigma0_reply_encode_32(const struct l4mm_map_item *it, uint32_t mr[3]);
/** @brief l4mm_x2_sigma0_reply_decode() for 32-bit words. @param mr words. @param n_mr count.
 *  @param out item. @return as the 64-bit variant. @par Cost O(1); pure. */
l4mm_status l4mm_x2_sigma0_reply_decode_32(const uint32_t *mr, size_t n_mr,
                                           struct l4mm_map_item *out);

/* ---- Fiasco.OC / L4Re ------------------------------------------------------------------ */

/** @brief L4Re sigma0 protocol label (L4_PROTO_SIGMA0). */
#define L4MM_L4RE_PROTO_SIGMA0 (-6)
/** @brief L4Re message registers in the UTCB (L4_UTCB_GENERIC_DATA_SIZE, x86 and amd64). */
#define L4MM_L4RE_NUM_MRS 63u
/** @brief L4Re item attribute: enable the cacheability option (L4_FPAGE_CACHE_OPT). */
#define L4MM_L4RE_ATTR_CACHE_OPT 0x1u
/** @brief L4Re item attribute: cacheable mapping (L4_FPAGE_CACHEABLE). */
#define L4MM_L4RE_ATTR_CACHEABLE 0x3u
/** @brief L4Re item attribute: bufferable mapping (L4_FPAGE_BUFFERABLE). */
#define L4MM_L4RE_ATTR_BUFFERABLE 0x5u
/** @brief L4Re item attribute: uncached mapping (L4_FPAGE_UNCACHEABLE). */
#define L4MM_L4RE_ATTR_UNCACHEABLE 0x1u

/**
 * @brief Encode an L4Re l4_fpage_t: rights bits 0-3, type 4-5 (1 mem, 2 io, 3 obj, 0
 *        special), order 6-11, address / port / capability index from bit 12.
 *
 * MEM: order 12..63 (12..32 with 32-bit words), rights 0..7. IO: order 0..16, port < 65536,
 * rights 0..7. OBJ: order 0..52 (0..20), rights 0..15. Nil = invalid fpage (all 0 but
 * rights); complete = the all-spaces fpage (special type, order 63).
 * @param f  the fpage.
 * @param w  receives the word.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers or anything the format cannot express.
 * @par Cost O(1); pure; never writes @p w on error.
 */
l4mm_status l4mm_l4re_fpage_encode(const struct l4mm_fpage *f, uint64_t *w);
/**
 * @brief Decode an L4Re fpage word.
 * @param w    the word.
 * @param out  receives the fpage.
 * @return ::L4MM_OK; ::L4MM_EINVAL if @p out is NULL; ::L4MM_EDECODE for a special fpage
 *         that is neither invalid nor all-spaces, an order out of range, a misaligned base,
 *         a port >= 65536, or rights bit 3 on a MEM/IO fpage.
 * @par Cost O(1); pure; never writes @p out on error.
 */
l4mm_status l4mm_l4re_fpage_decode(uint64_t w, struct l4mm_fpage *out);
/**
 * @brief Encode an L4Re send item: w[0] = control word (bit 0 compound, bit 1 grant, bit 3
 *        map-item marker, bits 4-7 attributes, hot spot from bit 12), w[1] = fpage.
 * @param it  the item; attr 0..15; snd_base (hot spot) in the fpage kind's units.
 * @param w   receives the two words.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers, attr > 15, a hot spot that does not fit
 *         (MEM: not 4 KiB aligned), or an fpage l4mm_l4re_fpage_encode() refuses.
 * @par Cost O(1); pure; never writes @p w on error.
 */
l4mm_status l4mm_l4re_item_encode(const struct l4mm_map_item *it, uint64_t w[2]);
/**
 * @brief Decode an L4Re send item.
 * @param w    the two words.
 * @param out  receives the item.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers; ::L4MM_EDECODE if bit 3 (map item) is
 *         clear, bit 2 or bits 8-11 are set, or w[1] is not a valid fpage.
 * @par Cost O(1); pure; never writes @p out on error.
 */
l4mm_status l4mm_l4re_item_decode(const uint64_t w[2], struct l4mm_map_item *out);
/**
 * @brief Encode an L4Re message tag (words 0-5, items 6-11, flags 12-15, signed label 16+).
 * @param t  the tag; untyped + 2 * typed <= 63 (L4_UTCB_GENERIC_DATA_SIZE).
 * @param w  receives the word.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers, counts out of range, flags > 15, or a
 *         label outside the signed field.
 * @par Cost O(1); pure; never writes @p w on error.
 */
l4mm_status l4mm_l4re_tag_encode(const struct l4mm_msgtag *t, uint64_t *w);
/**
 * @brief Decode an L4Re message tag; the result re-encodes to the identical word.
 * @param w    the word.
 * @param out  receives the tag.
 * @return ::L4MM_OK; ::L4MM_EINVAL if @p out is NULL; ::L4MM_EDECODE if words + 2 * items
 *         exceeds the 63 UTCB message registers.
 * @par Cost O(1); pure; never writes @p out on error.
 */
l4mm_status l4mm_l4re_tag_decode(uint64_t w, struct l4mm_msgtag *out);
/** @brief l4mm_l4re_fpage_encode() for 32-bit words. @param f fpage. @param w word.
 *  @return as the 64-bit variant. @par Cost O(1); pure. */
l4mm_status l4mm_l4re_fpage_encode_32(const struct l4mm_fpage *f, uint32_t *w);
/** @brief l4mm_l4re_fpage_decode() for 32-bit words. @param w word. @param out fpage.
 *  @return as the 64-bit variant. @par Cost O(1); pure. */
l4mm_status l4mm_l4re_fpage_decode_32(uint32_t w, struct l4mm_fpage *out);
/** @brief l4mm_l4re_item_encode() for 32-bit words. @param it item. @param w words.
 *  @return as the 64-bit variant. @par Cost O(1); pure. */
l4mm_status l4mm_l4re_item_encode_32(const struct l4mm_map_item *it, uint32_t w[2]);
/** @brief l4mm_l4re_item_decode() for 32-bit words. @param w words. @param out item.
 *  @return as the 64-bit variant. @par Cost O(1); pure. */
l4mm_status l4mm_l4re_item_decode_32(const uint32_t w[2], struct l4mm_map_item *out);
/** @brief l4mm_l4re_tag_encode() for 32-bit words (16-bit label). @param t tag. @param w word.
 *  @return as the 64-bit variant. @par Cost O(1); pure. */
l4mm_status l4mm_l4re_tag_encode_32(const struct l4mm_msgtag *t, uint32_t *w);
/** @brief l4mm_l4re_tag_decode() for 32-bit words. @param w word. @param out tag.
 *  @return as the 64-bit variant. @par Cost O(1); pure. */
l4mm_status l4mm_l4re_tag_decode_32(uint32_t w, struct l4mm_msgtag *out);

/* ---- whole messages --------------------------------------------------------------------- */

/** @brief Most map/grant items a parsed message holds. */
#define L4MM_MSG_MAX_ITEMS 32

/**
 * @brief A validated message: the tag, where its untyped words are, and its items in order.
 *
 * The 64-bit parsers set #untyped (and #untyped_32 = NULL); the `_32` parsers, whose input is
 * `const uint32_t *`, set #untyped_32 (and #untyped = NULL). Both point into the caller's
 * array, just after the tag: they stay valid only as long as that array does.
 */
struct l4mm_msg {
    struct l4mm_msgtag tag;     /**< the decoded tag */
    const uint64_t *untyped;    /**< points into mr (64-bit parsers), tag.untyped words */
    const uint32_t *untyped_32; /**< points into mr (32-bit parsers), tag.untyped words */
    unsigned n_items;           /**< number of valid entries in #items */
    struct l4mm_map_item items[L4MM_MSG_MAX_ITEMS]; /**< map/grant items, in order */
};

/**
 * @brief Parse and validate an X.2 message: mr[0] tag, then u untyped words, then t typed
 *        words that must all be map or grant items (two words each).
 * @param mr    the message registers; only mr[0..n_mr-1] are ever read.
 * @param n_mr  number of valid words in @p mr.
 * @param out   receives the message.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers; ::L4MM_EDECODE if n_mr is 0, the tag is
 *         invalid, 1 + u + t exceeds n_mr or the 64 MRs, an item is truncated, of an unknown
 *         type (string, ctrlxfer, reserved) or invalid, or there are more than
 *         ::L4MM_MSG_MAX_ITEMS items.
 * @par Cost O(1 + items), two passes (validate, then commit); pure; never writes @p out on
 *      error.
 */
l4mm_status l4mm_x2_msg_parse(const uint64_t *mr, size_t n_mr, struct l4mm_msg *out);
/** @brief l4mm_x2_msg_parse() for 32-bit words (sets out->untyped_32). @param mr words.
 *  @param n_mr count. @param out message. @return as the 64-bit variant.
 *  @par Cost O(1 + items); pure. */
l4mm_status l4mm_x2_msg_parse_32(const uint32_t *mr, size_t n_mr, struct l4mm_msg *out);
/**
 * @brief Parse and validate an L4Re message: mr[0] holds the tag (passed in a register by
 *        the kernel), mr[1..] the UTCB message registers: u words, then t items of two words.
 * @param mr    the tag followed by the message registers; only mr[0..n_mr-1] are read.
 * @param n_mr  number of valid words in @p mr.
 * @param out   receives the message.
 * @return ::L4MM_OK; ::L4MM_EINVAL for NULL pointers; ::L4MM_EDECODE if n_mr is 0, the tag is
 *         invalid, 1 + u + 2t exceeds n_mr (u + 2t > 63 is refused by the tag), or an item is
 *         invalid or of an unknown type.
 * @par Cost O(1 + items), two passes; pure; never writes @p out on error.
 */
l4mm_status l4mm_l4re_msg_parse(const uint64_t *mr, size_t n_mr, struct l4mm_msg *out);
/** @brief l4mm_l4re_msg_parse() for 32-bit words (sets out->untyped_32). @param mr words.
 *  @param n_mr count. @param out message. @return as the 64-bit variant.
 *  @par Cost O(1 + items); pure. */
l4mm_status l4mm_l4re_msg_parse_32(const uint32_t *mr, size_t n_mr, struct l4mm_msg *out);

/* ---- bounded queues --------------------------------------------------------------------- */

/**
 * @brief Bounded FIFO ring of fixed-size messages in caller storage. Fields are private.
 *
 * Single-threaded: the caller serialises all calls (one lock is enough). For an interrupt
 * handler feeding a thread, or two CPUs, use ::l4mm_spscq.
 */
struct l4mm_msgq {
    unsigned char *storage; /**< private: caller's buffer */
    size_t storage_size;    /**< private: its size in bytes */
    size_t msg_size;        /**< private: bytes per message */
    size_t capacity;        /**< private: storage_size / msg_size */
    size_t head;            /**< private: slot of the oldest message */
    size_t count;           /**< private: messages queued */
};
/**
 * @brief Initialise an empty queue over @p storage; capacity is exactly
 *        storage_size / msg_size messages.
 * @param q             the queue.
 * @param storage       caller memory, kept until the queue is no longer used.
 * @param storage_size  its size in bytes.
 * @param msg_size      bytes per message.
 * @return ::L4MM_OK; ::L4MM_EINVAL if a pointer is NULL, msg_size is 0 or
 *         storage_size < msg_size (then @p q is unchanged).
 * @par Cost O(1); never touches @p storage.
 */
l4mm_status l4mm_msgq_init(struct l4mm_msgq *q, void *storage, size_t storage_size,
                           size_t msg_size);
/**
 * @brief Append a copy of msg_size bytes from @p msg.
 * @param q    the queue.
 * @param msg  the message.
 * @return ::L4MM_OK; ::L4MM_EINVAL if a pointer is NULL; ::L4MM_EBUSY if full (nothing is
 *         overwritten, nothing changes).
 * @par Cost O(msg_size); not thread-safe.
 */
l4mm_status l4mm_msgq_push(struct l4mm_msgq *q, const void *msg);
/**
 * @brief Remove the oldest message, copying it to @p msg.
 * @param q    the queue.
 * @param msg  receives msg_size bytes.
 * @return ::L4MM_OK; ::L4MM_EINVAL if a pointer is NULL; ::L4MM_ENOENT if empty.
 * @par Cost O(msg_size); not thread-safe.
 */
l4mm_status l4mm_msgq_pop(struct l4mm_msgq *q, void *msg);
/**
 * @brief Number of queued messages (0 for NULL).
 * @param q  the queue.
 * @return the count.
 * @par Cost O(1).
 */
size_t l4mm_msgq_count(const struct l4mm_msgq *q);
/**
 * @brief Check the queue's invariants.
 * @param q  the queue.
 * @return ::L4MM_OK; ::L4MM_EINVAL if @p q is NULL; ::L4MM_ECORRUPT if storage is NULL,
 *         msg_size is 0, capacity != storage_size / msg_size, head >= capacity or
 *         count > capacity. Never asserts.
 * @par Cost O(1).
 */
l4mm_status l4mm_msgq_check(const struct l4mm_msgq *q);
/**
 * @brief The module's self-check (see l4mm_msgq_check()).
 * @param q  the queue.
 * @return as l4mm_msgq_check().
 * @par Cost O(1).
 */
l4mm_status l4mm_ipcmsg_check(const struct l4mm_msgq *q);

/**
 * @brief Single-producer/single-consumer variant of ::l4mm_msgq: one context pushes, another
 *        pops, concurrently (interrupt handler and thread, or two CPUs), lock-free, with
 *        acquire/release atomics. Fields are private.
 *
 * The two indices are plain `size_t` fields that the library only touches through the
 * compiler's `__atomic` builtins (what C11 `<stdatomic.h>` lowers to on gcc and clang), so
 * this header needs no `<stdatomic.h>` and has the same layout in C and C++. Never access
 * them directly while both sides run.
 *
 * Indices run over [0, 2 * capacity) so full and empty differ without a spare slot. The
 * payload copy happens before the release store that publishes it.
 */
struct l4mm_spscq {
    unsigned char *storage; /**< private: caller's buffer */
    size_t storage_size;    /**< private: its size in bytes */
    size_t msg_size;        /**< private: bytes per message */
    size_t capacity;        /**< private: storage_size / msg_size */
    size_t head;            /**< private: consumer index, written only by pop (atomically) */
    size_t tail;            /**< private: producer index, written only by push (atomically) */
};
/**
 * @brief Initialise an empty SPSC queue (before either side uses it).
 * @param q             the queue.
 * @param storage       caller memory.
 * @param storage_size  its size in bytes.
 * @param msg_size      bytes per message.
 * @return ::L4MM_OK; ::L4MM_EINVAL if a pointer is NULL, msg_size is 0, storage_size <
 *         msg_size, or the capacity exceeds SIZE_MAX / 2.
 * @par Cost O(1); not concurrent with push/pop.
 */
l4mm_status l4mm_spscq_init(struct l4mm_spscq *q, void *storage, size_t storage_size,
                            size_t msg_size);
/**
 * @brief Producer side: append a copy of @p msg.
 * @param q    the queue.
 * @param msg  the message.
 * @return ::L4MM_OK; ::L4MM_EINVAL if a pointer is NULL; ::L4MM_EBUSY if full.
 * @par Cost O(msg_size), wait-free; only one producer at a time; safe in interrupt context.
 */
l4mm_status l4mm_spscq_push(struct l4mm_spscq *q, const void *msg);
/**
 * @brief Consumer side: remove the oldest message into @p msg.
 * @param q    the queue.
 * @param msg  receives the message.
 * @return ::L4MM_OK; ::L4MM_EINVAL if a pointer is NULL; ::L4MM_ENOENT if empty.
 * @par Cost O(msg_size), wait-free; only one consumer at a time.
 */
l4mm_status l4mm_spscq_pop(struct l4mm_spscq *q, void *msg);
/**
 * @brief Check the SPSC queue's invariants (meaningful when both sides are quiescent).
 * @param q  the queue.
 * @return ::L4MM_OK; ::L4MM_EINVAL if @p q is NULL; ::L4MM_ECORRUPT if the geometry is
 *         inconsistent, an index is out of range, or more than capacity messages are queued.
 * @par Cost O(1).
 */
l4mm_status l4mm_spscq_check(const struct l4mm_spscq *q);

#ifdef __cplusplus
}
#endif

#endif /* L4MM_IPCMSG_H */
