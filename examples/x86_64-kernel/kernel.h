/*
 * kernel.h - internals of the l4mm example kernel (x86-64, one CPU, one kernel stack).
 */
#ifndef KX_KERNEL_H
#define KX_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memfns.h"
#include "proto.h"

#define KERNEL_VMA 0xffffffff80000000ul
#define P2V(p)     ((void *)((uintptr_t)(p) + KERNEL_VMA))
#define V2P(v)     ((uint64_t)(uintptr_t)(v)-KERNEL_VMA)
#define PAGE       4096ul
#define PHYS_LIMIT (1ul << 30) /* the direct map covers the first 1 GiB */

/* QEMU isa-debug-exit (iobase 0xf4): QEMU exits with (code << 1) | 1. */
#define EXIT_PASS  0x21u /* -> 67 */
#define EXIT_FAIL  0x30u /* -> 97 */
#define EXIT_PANIC 0x31u /* -> 99: exception in the kernel */

/* The frame every entry path builds (entry.S pushes it in reverse). */
struct regs {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* cpu.c */
void cpu_init(void);
void serial_init(void);
void kputc(char c);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void qemu_exit(unsigned code);
__attribute__((noreturn)) void panic(const char *what);
static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint64_t read_cr2(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}
static inline uint64_t read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
static inline void write_cr3(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}
static inline void invlpg(uint64_t va)
{
    __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}

/* klib.c */
const char *rights_str(unsigned r); /* "rwx" letters, static buffer per call slot */

/* entry.S */
__attribute__((noreturn)) void kx_resume_iret(const struct regs *r);
__attribute__((noreturn)) void kx_resume_sysret(const struct regs *r);
extern const uint64_t kx_isr_table[32];
void kx_syscall_entry(void);
extern const uint8_t kx_user_elf[], kx_user_elf_end[];
extern uint8_t kx_stack_top[], kx_df_stack_top[], kx_kernel_end[];
extern uint64_t kx_boot_pml4[512];

#endif /* KX_KERNEL_H */
