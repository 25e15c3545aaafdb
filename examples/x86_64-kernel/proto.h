/*
 * proto.h - what the example kernel and its user-level tasks agree on: thread ids, system
 * call numbers, the user address-space layout, and the labels of the kernel's own
 * (asynchronous) messages to the pager. Shared by kernel and user code; no code here.
 */
#ifndef KX_PROTO_H
#define KX_PROTO_H

/* Thread ids (one thread per task; the task's space id in the mapping database is its tid). */
#define TID_NIL    0u
#define TID_KERNEL 1u /* the kernel's own thread id: source of refill requests      */
#define TID_SIGMA0 2u /* the root pager: owns all free frames                       */
#define TID_A      3u /* client A                                                   */
#define TID_B      4u /* client B (ends as the memory hog of the OOM scenario)      */
#define TID_ANY    0xffffffffu
#define NTHREADS   5u

/* System calls: rax = number, arguments in rdi, rsi, rdx; result in rax (0 = ok),
 * rsi = sender tid after a receive. Message registers live in the task's UTCB page. */
#define SYS_IPC        1u /* rdi = send-to (TID_NIL: none), rsi = receive-from (NIL/ANY/tid)  */
#define SYS_PRINT      2u /* rdi = length of the text in utcb->text                          */
#define SYS_UNMAP      3u /* rdi = X.2 fpage word (rights to remove), rsi = flags (1: self)  */
#define SYS_EXIT       4u
#define SYS_FRAME_USED 5u /* sigma0 only: rdi = frame; rax = 1 if another space maps it   */

/* User layout (every task the same): image, stack and UTCB inside one 2 MiB region that the
 * kernel installs at boot; everything else is mapped by pagers through the mapping
 * database. Physical memory is below 1 GiB, so sigma0's idempotent names never collide. */
#define U_IMAGE       0x40000000ul
#define U_STACK_TOP   0x401ff000ul
#define U_STACK_PAGES 4u
#define U_UTCB        0x401ff000ul
#define U_BOOT_END    0x40200000ul
#define U_LIMIT       0x0000800000000000ul

/* Addresses the demo uses. */
#define VA_A_P1      0x50000000ul /* A: first fault, later mapped on to B           */
#define VA_A_RO      0x50100000ul /* A: sigma0 maps this one read-only               */
#define VA_A_P2      0x50200000ul /* A: granted to B                                 */
#define VA_A_P1X     0x50300000ul /* A: B maps Q1 back here (depth 3)                */
#define VA_B_Q1      0x60000000ul /* B: receives A's P1 (depth 2)                    */
#define VA_B_RO      0x60100000ul /* B: receives A's read-only page, asked RW        */
#define VA_B_WO      0x60110000ul /* B: asked W-only of a read-only page: refused    */
#define VA_B_Q2      0x60200000ul /* B: receives A's P2 by grant                     */
#define VA_HOG       0x70000000ul /* B: touches pages from here until memory runs out */
#define RO_REGION_LO 0x50100000ul /* sigma0 maps faults in [LO, HI) read-only   */
#define RO_REGION_HI 0x50200000ul

/* The kernel's asynchronous messages to sigma0 (sent from TID_KERNEL through the bounded
 * msgq): the refill request is the X.2 sigma0 RPC (label -6<<4, "any page" of a size),
 * answered by one map item or the nil item; the rest use these demo labels (X.2 tag). */
#define LBL_DIED    0x7f1 /* MR1 = tid of a killed task: its frames come back        */
#define LBL_PING    0x7f2 /* a probe (no reply)                                      */
#define LBL_CHECK   0x7f3 /* run your invariant checks; reply: MR1 = status           */
#define LBL_RETURN  0x7f5 /* grant items: surplus kernel-pool frames going back       */
#define LBL_CHECKED 0x7f4 /* sigma0's answer to LBL_CHECK                             */
#define LBL_FAULT   (-32) /* X.2 page-fault label (-2 << 4), low 4 bits: access rwx   */

#define UTCB_MRS  64u
#define UTCB_TEXT 256u /* bytes of utcb->text */

/* The UTCB page: one per task, user-writable; the kernel reads/writes it through its
 * direct map. */
#ifndef __ASSEMBLER__
#include <stdint.h>
struct utcb {
    uint64_t mr[UTCB_MRS];
    char text[UTCB_TEXT];
    /* boot info for sigma0: the free physical ranges it owns */
    uint64_t nranges;
    uint64_t range[32][2]; /* base, size */
};
#endif

#endif /* KX_PROTO_H */
