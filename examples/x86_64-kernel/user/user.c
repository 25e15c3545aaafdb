/*
 * user.c - the user-level tasks of the example kernel, all in one ring-3 image (each task
 * gets its own copy; rdi at entry says which task it is):
 *   sigma0  the root pager: an l4mm_buddy owns every free frame; answers page faults with
 *           X.2 map items, the kernel's refill requests with pages, or honestly with a nil
 *           item when it has nothing left.
 *   A, B    clients: fault pages in, map and grant them to each other, unmap recursively;
 *           B finally touches memory until it runs out.
 */
#include <stdarg.h>

#include <l4mm/buddy.h>
#include <l4mm/ipcmsg.h>

#include "../memfns.h"
#include "../proto.h"

void user_start(uint64_t tid) __attribute__((noreturn, section(".text.start")));

#define UTCB       ((struct utcb *)U_UTCB)
#define MAX_FRAMES (32768u) /* sigma0 covers at most 128 MiB */

static const char *self = "?";

/* ---- system calls ----------------------------------------------------------------------- */

static uint64_t sys2(uint64_t nr, uint64_t a, uint64_t b, uint64_t *out)
{
    register uint64_t rax __asm__("rax") = nr;
    register uint64_t rdi __asm__("rdi") = a;
    register uint64_t rsi __asm__("rsi") = b;
    __asm__ volatile("syscall" : "+r"(rax), "+r"(rdi), "+r"(rsi) : : "rcx", "r11", "memory");
    if (out)
        *out = rsi;
    return rax;
}

static uint64_t ipc(uint64_t to, uint64_t from, uint64_t *sender)
{
    return sys2(SYS_IPC, to, from, sender);
}

__attribute__((noreturn)) static void sys_exit(void)
{
    sys2(SYS_EXIT, 0, 0, NULL);
    for (;;)
        ;
}

/* ---- printing through the UTCB ------------------------------------------------------------ */

static unsigned tlen;
static void tput(char c)
{
    if (tlen < UTCB_TEXT)
        UTCB->text[tlen++] = c;
}
static void tnum(uint64_t v, unsigned base)
{
    char b[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        b[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    while (n)
        tput(b[--n]);
}
static void uprintf(const char *fmt, ...)
{
    va_list ap;
    const char *s;
    va_start(ap, fmt);
    tlen = 0;
    for (s = self; *s; s++)
        tput(*s);
    tput(':');
    tput(' ');
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            tput(*fmt);
            continue;
        }
        switch (*++fmt) {
        case 'u': tnum(va_arg(ap, uint64_t), 10); break;
        case 'x': tnum(va_arg(ap, uint64_t), 16); break;
        case 's':
            for (s = va_arg(ap, const char *); *s; s++)
                tput(*s);
            break;
        default: tput('?'); break;
        }
    }
    va_end(ap);
    tput('\n');
    sys2(SYS_PRINT, tlen, 0, NULL);
}

/* ---- message helpers ---------------------------------------------------------------------- */

static void put_tag(int64_t label, unsigned u, unsigned t)
{
    struct l4mm_msgtag tag = { label, u, t, 0 };
    uint64_t w = 0;
    l4mm_x2_tag_encode(&tag, &w);
    UTCB->mr[0] = w;
}

/* Write a map (or grant) item of one fpage to MR[1 + 2i]. */
static l4mm_status put_item(unsigned i, uint64_t base, unsigned order, unsigned rights,
                            uint64_t snd_base, bool grant, bool nil)
{
    struct l4mm_map_item it;
    uint64_t w[2] = { 0, 0 };
    l4mm_status st;
    memset(&it, 0, sizeof(it));
    it.fpage.kind = L4MM_FPAGE_MEM;
    it.fpage.nil = nil;
    if (!nil) {
        it.fpage.base = base;
        it.fpage.order = order;
        it.fpage.rights = rights;
        it.snd_base = snd_base;
    }
    it.grant = grant;
    st = l4mm_x2_item_encode(&it, w);
    UTCB->mr[1 + 2 * i] = w[0];
    UTCB->mr[2 + 2 * i] = w[1];
    return st;
}

static int64_t label_of(uint64_t w)
{
    struct l4mm_msgtag tag;
    if (l4mm_x2_tag_decode(w, &tag) != L4MM_OK)
        return 0;
    return tag.label;
}

/* ---- sigma0 --------------------------------------------------------------------------------- */

static struct l4mm_buddy buddy;
static uint64_t meta[16384]; /* 128 KiB */
static uint8_t owner[MAX_FRAMES];

static void sigma0_init(void)
{
    uint64_t top = 0, i, frames = 0;
    size_t need;
    l4mm_status st;
    for (i = 0; i < UTCB->nranges; i++)
        if (UTCB->range[i][0] + UTCB->range[i][1] > top)
            top = UTCB->range[i][0] + UTCB->range[i][1];
    need = l4mm_buddy_meta_size(0, top, 12, 10);
    st = l4mm_buddy_init(&buddy, meta, sizeof(meta), 0, top, 12, 10);
    for (i = 0; st == L4MM_OK && i < UTCB->nranges; i++) {
        st = l4mm_buddy_add(&buddy, UTCB->range[i][0], UTCB->range[i][1]);
        frames += UTCB->range[i][1] >> 12;
    }
    if (st != L4MM_OK || top > (uint64_t)MAX_FRAMES << 12) {
        uprintf("buddy setup failed (%s, meta %u bytes)", l4mm_strerror(st), need);
        sys_exit();
    }
    uprintf("l4mm_buddy owns %u free frames in %u range(s) (metadata %u bytes, in sigma0's own "
            "memory); check %s",
            frames, UTCB->nranges, need, l4mm_strerror(l4mm_buddy_check(&buddy)));
}

static uint64_t hog_faults;

/* A page fault of `who`: allocate a frame, reply with one map item (or a nil item). */
static void sigma0_fault(uint64_t who, uint64_t addr, int64_t label)
{
    l4mm_addr_t f;
    uint64_t page = addr & ~0xfffull;
    bool ro = page >= RO_REGION_LO && page < RO_REGION_HI;
    bool quiet = page >= VA_HOG;
    unsigned rights = ro ? L4MM_R : (L4MM_R | L4MM_W);
    put_tag(0, 0, 2);
    if (l4mm_buddy_alloc(&buddy, 0, &f) != L4MM_OK) {
        uprintf("no free frame for task %u's fault at 0x%x: replying with a nil map item", who,
                addr);
        put_item(0, 0, 0, 0, 0, false, true);
        return;
    }
    owner[f >> 12] = (uint8_t)who;
    put_item(0, f, 12, rights, page, false, false);
    if (quiet) {
        if ((++hog_faults & 1023u) == 0)
            uprintf("%u pages served to the hog so far", hog_faults);
        return;
    }
    uprintf("fault (label %s) from task %u at 0x%x -> buddy frame 0x%x, map item %s",
            (label & 2) ? "-2<<4|w" : "-2<<4|r", who, addr, f, ro ? "r--" : "rw-");
}

/* The kernel's refill request, an X.2 sigma0 RPC for "any page" of 2^k frames: answer with
 * the largest block the buddy can give (2^k or smaller) as one grant item, or the nil item. */
static void sigma0_refill(void)
{
    struct l4mm_x2_sigma0_req req;
    struct l4mm_map_item it;
    l4mm_addr_t f = 0;
    unsigned k;
    int j;
    static unsigned lines;
    if (l4mm_x2_sigma0_req_decode(UTCB->mr, UTCB_MRS, &req) != L4MM_OK || !req.any ||
        req.fpage.order < 12 || req.fpage.order > 16) {
        uprintf("malformed sigma0 request from the kernel: no memory given");
        l4mm_x2_sigma0_reply_encode(NULL, UTCB->mr);
        return;
    }
    k = req.fpage.order - 12;
    for (j = (int)k; j >= 0; j--)
        if (l4mm_buddy_alloc(&buddy, (unsigned)j, &f) == L4MM_OK)
            break;
    if (j < 0) {
        l4mm_x2_sigma0_reply_encode(NULL, UTCB->mr);
        uprintf("kernel asks for any %u KiB: no memory left, replying with the nil item",
                (uint64_t)4 << k);
        return;
    }
    if (j > 0) {
        /* re-book the block page by page (alloc_at), so the kernel can give pages back
         * one at a time */
        uint64_t i;
        l4mm_buddy_free(&buddy, f, (unsigned)j);
        for (i = 0; i < (1ull << j); i++)
            if (l4mm_buddy_alloc_at(&buddy, f + (i << 12), 0) != L4MM_OK)
                uprintf("alloc_at 0x%x failed", f + (i << 12));
    }
    memset(&it, 0, sizeof(it));
    it.fpage.kind = L4MM_FPAGE_MEM;
    it.fpage.base = f;
    it.fpage.order = 12 + (unsigned)j;
    it.fpage.rights = L4MM_RWX;
    it.snd_base = f;
    it.grant = true;
    l4mm_x2_sigma0_reply_encode(&it, UTCB->mr);
    if (lines++ < 3)
        uprintf("sigma0 RPC from the kernel: any %u KiB -> buddy block 0x%x (order %u), "
                "granted",
                (uint64_t)4 << k, f, (uint64_t)j);
}

static struct l4mm_msg rmsg;
static uint64_t returned;

/* Surplus kernel-pool frames, granted back by the kernel: free them in the buddy. */
static void sigma0_return(void)
{
    unsigned i, n = 0;
    static unsigned lines;
    if (l4mm_x2_msg_parse(UTCB->mr, UTCB_MRS, &rmsg) != L4MM_OK)
        return;
    for (i = 0; i < rmsg.n_items; i++)
        if (!rmsg.items[i].fpage.nil && rmsg.items[i].fpage.order == 12 &&
            l4mm_buddy_free(&buddy, rmsg.items[i].fpage.base, 0) == L4MM_OK)
            n++;
    returned += n;
    if (lines++ < 2)
        uprintf("the kernel grants back %u surplus frames -> buddy (check %s)", (uint64_t)n,
                l4mm_strerror(l4mm_buddy_check(&buddy)));
}

static void sigma0_died(uint64_t tid)
{
    uint64_t i, n = 0, kept = 0;
    for (i = 0; i < MAX_FRAMES; i++) {
        if (owner[i] == tid) {
            if (sys2(SYS_FRAME_USED, i << 12, 0, NULL) != 0) {
                kept++; /* granted on to a live task: not free */
                continue;
            }
            owner[i] = 0;
            if (l4mm_buddy_free(&buddy, i << 12, 0) == L4MM_OK)
                n++;
        }
    }
    uprintf("task %u is gone: %u frames back into the buddy (%u still mapped elsewhere); "
            "check %s",
            tid, n, kept, l4mm_strerror(l4mm_buddy_check(&buddy)));
}

__attribute__((noreturn)) static void sigma0_main(void)
{
    uint64_t reply_to = TID_NIL, from = 0;
    sigma0_init();
    for (;;) {
        int64_t label;
        if (ipc(reply_to, TID_ANY, &from) != 0) {
            reply_to = TID_NIL;
            continue;
        }
        reply_to = TID_NIL;
        label = label_of(UTCB->mr[0]);
        if (from == TID_KERNEL) {
            if (label == L4MM_X2_SIGMA0_LABEL) {
                sigma0_refill();
                reply_to = TID_KERNEL;
            } else if (label == LBL_DIED) {
                sigma0_died(UTCB->mr[1]);
            } else if (label == LBL_RETURN) {
                sigma0_return();
            } else if (label == LBL_PING) {
                uprintf("probe message from the kernel's queue");
            } else if (label == LBL_CHECK) {
                struct l4mm_buddy_stats s;
                l4mm_status st = l4mm_buddy_check(&buddy);
                l4mm_buddy_stats(&buddy, &s);
                uprintf("final check: l4mm_buddy_check %s, %u frames free, %u allocated; %u "
                        "frames came back from the kernel pool",
                        l4mm_strerror(st), s.free_units, s.allocated_units, returned);
                put_tag(LBL_CHECKED, 1, 0);
                UTCB->mr[1] = st;
                reply_to = TID_KERNEL;
            }
        } else if ((label & ~0xfll) == LBL_FAULT) {
            sigma0_fault(from, UTCB->mr[1], label);
            reply_to = from;
        }
    }
}

/* ---- clients -------------------------------------------------------------------------------- */

#define PEEK(a) (*(volatile uint64_t *)(a))

__attribute__((noreturn)) static void client_a(void)
{
    uint64_t from = 0, st;
    struct l4mm_fpage f = { L4MM_FPAGE_MEM, VA_A_P1, 12, L4MM_RWX, false, false };
    uint64_t w = 0;

    uprintf("touching 0x%x (not mapped yet)", VA_A_P1);
    PEEK(VA_A_P1) = 0xa1a1;
    uprintf("resumed after the fault: wrote and read back 0x%x", PEEK(VA_A_P1));
    uprintf("reading 0x%x (sigma0 maps it read-only): 0x%x", VA_A_RO, PEEK(VA_A_RO));
    PEEK(VA_A_P2) = 0xb2b2;

    /* a malformed message: 3 typed words cannot be map items (two words each) */
    put_tag(0x100, 0, 3);
    UTCB->mr[1] = UTCB->mr[2] = UTCB->mr[3] = 0x8;
    st = ipc(TID_B, TID_NIL, &from);
    uprintf("a message with 3 typed words -> %s (the kernel validates before it acts)",
            l4mm_strerror((l4mm_status)st));

    /* to B: an escalation attempt (rw of a read-only page), a w-only request of it, a map
     * of P1 and a grant of P2 */
    put_item(0, VA_A_RO, 12, L4MM_R | L4MM_W, VA_B_RO, false, false);
    put_item(1, VA_A_RO, 12, L4MM_W, VA_B_WO, false, false);
    put_item(2, VA_A_P1, 12, L4MM_R | L4MM_W, VA_B_Q1, false, false);
    put_item(3, VA_A_P2, 12, L4MM_R | L4MM_W, VA_B_Q2, true, false);
    put_tag(0x100, 0, 8);
    uprintf("sending B 4 items: map ro page asking rw, map it w-only, map P1, grant P2");
    st = ipc(TID_B, TID_B, &from);
    uprintf("B mapped its Q1 back to 0x%x (depth 3): reads 0x%x (ipc %u)", VA_A_P1X, PEEK(VA_A_P1X),
            st);

    l4mm_x2_fpage_encode(&f, &w);
    st = sys2(SYS_UNMAP, w, 0, NULL);
    uprintf("unmap(P1, rwx) -> %s; P1 itself is still mine: 0x%x", l4mm_strerror((l4mm_status)st),
            PEEK(VA_A_P1));
    put_tag(0x101, 0, 0);
    ipc(TID_B, TID_B, &from); /* "go": B touches Q1 again, then answers */
    uprintf("done; waiting for a message that never comes");
    for (;;)
        ipc(TID_NIL, TID_SIGMA0, &from);
}

__attribute__((noreturn)) static void client_b(void)
{
    uint64_t from = 0, i;
    ipc(TID_NIL, TID_A, &from);
    uprintf("got A's items: Q1 reads 0x%x (A's P1), Q2 reads 0x%x (granted P2), ro page reads "
            "0x%x",
            PEEK(VA_B_Q1), PEEK(VA_B_Q2), PEEK(VA_B_RO));
    put_item(0, VA_B_Q1, 12, L4MM_R | L4MM_W, VA_A_P1X, false, false);
    put_tag(0x102, 0, 2);
    ipc(TID_A, TID_A, &from);
    PEEK(VA_B_Q1) = 0x5151;
    uprintf("Q1 faulted again after A's unmap and was served a new frame (reads 0x%x)",
            PEEK(VA_B_Q1));
    put_tag(0x103, 0, 0);
    ipc(TID_A, TID_NIL, &from);
    uprintf("now touching memory from 0x%x until it runs out", VA_HOG);
    for (i = 0;; i++)
        PEEK(VA_HOG + i * 4096) = i;
}

void user_start(uint64_t tid)
{
    if (tid == TID_SIGMA0) {
        self = "sigma0";
        sigma0_main();
    }
    if (tid == TID_A) {
        self = "A";
        client_a();
    }
    self = "B";
    client_b();
}
