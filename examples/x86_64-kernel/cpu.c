/*
 * cpu.c - descriptor tables, the syscall MSRs, COM1 output, kprintf, leaving QEMU.
 */
#include <stdarg.h>

#include "kernel.h"

struct tss {
    uint32_t rsvd0;
    uint64_t rsp0, rsp1, rsp2;
    uint64_t rsvd1;
    uint64_t ist[7];
    uint64_t rsvd2;
    uint16_t rsvd3, iomap;
} __attribute__((packed));

struct idt_entry {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, rsvd;
} __attribute__((packed));

struct dtr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

/* 0x08 kernel code, 0x10 kernel data, 0x18 user data, 0x20 user code, 0x28 TSS (2 slots).
 * STAR's sysret base 0x10 gives SS = 0x18|3 and CS = 0x20|3. */
static uint64_t gdt[7] = {
    0,
    0x00af9a000000ffffull, /* kernel code, L=1 */
    0x00cf92000000ffffull, /* kernel data */
    0x00cff2000000ffffull, /* user data, DPL 3 */
    0x00affa000000ffffull, /* user code, L=1, DPL 3 */
    0,
    0,
};
static struct tss tss;
static struct idt_entry idt[32];

static void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

void cpu_init(void)
{
    uint64_t t = (uint64_t)(uintptr_t)&tss;
    struct dtr g = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };
    struct dtr i = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    unsigned v;

    tss.rsp0 = (uint64_t)(uintptr_t)kx_stack_top;
    tss.ist[0] = (uint64_t)(uintptr_t)kx_df_stack_top; /* IST1: double fault */
    tss.iomap = sizeof(tss);
    gdt[5] =
        (sizeof(tss) - 1) | ((t & 0xffffff) << 16) | (0x89ull << 40) | (((t >> 24) & 0xff) << 56);
    gdt[6] = t >> 32;
    __asm__ volatile("lgdt %0" ::"m"(g));
    __asm__ volatile("pushq $0x08\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw $0x10, %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%ss\n\t"
                     "movw $0x28, %%ax\n\t"
                     "ltr %%ax" ::
                         : "rax", "memory");
    for (v = 0; v < 32; v++) {
        uint64_t h = kx_isr_table[v];
        idt[v].off0 = (uint16_t)h;
        idt[v].sel = 0x08;
        idt[v].ist = v == 8 ? 1 : 0;
        idt[v].type = 0x8e; /* interrupt gate, DPL 0: int $n from ring 3 faults (#GP) */
        idt[v].off1 = (uint16_t)(h >> 16);
        idt[v].off2 = (uint32_t)(h >> 32);
    }
    __asm__ volatile("lidt %0" ::"m"(i));

    /* syscall/sysret */
    wrmsr(0xc0000081u, (0x10ull << 48) | (0x08ull << 32));               /* STAR   */
    wrmsr(0xc0000082u, (uint64_t)(uintptr_t)kx_syscall_entry);           /* LSTAR  */
    wrmsr(0xc0000084u, (1u << 9) | (1u << 10) | (1u << 8) | (1u << 18)); /* SFMASK: IF DF TF AC */

    /* SMEP/SMAP where the CPU has them (QEMU -cpu max): the kernel reaches user memory only
     * through its own direct map, never through user addresses */
    {
        uint32_t a = 7, b, c = 0, d;
        uint64_t cr4;
        __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
        __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
        if (b & (1u << 7))
            cr4 |= 1ull << 20;
        if (b & (1u << 20))
            cr4 |= 1ull << 21;
        __asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
        kprintf("[boot] SMEP %s, SMAP %s\n", (b & (1u << 7)) ? "on" : "not available",
                (b & (1u << 20)) ? "on" : "not available");
    }

    /* no interrupts in this kernel: mask both legacy PICs */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

#define COM1 0x3f8
void serial_init(void)
{
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x80);
    outb(COM1 + 0, 0x01); /* 115200 */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);
    outb(COM1 + 2, 0xc7);
    outb(COM1 + 4, 0x03);
}

void kputc(char c)
{
    unsigned spin = 100000;
    if (c == '\n')
        kputc('\r');
    while (!(inb(COM1 + 5) & 0x20) && --spin)
        ;
    outb(COM1, (uint8_t)c);
}

static void put_u(uint64_t v, unsigned base, int width, char pad)
{
    char buf[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    while (n < width--)
        kputc(pad);
    while (n)
        kputc(buf[--n]);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        int width = 0, lng = 0;
        char pad = ' ';
        if (*fmt != '%') {
            kputc(*fmt);
            continue;
        }
        fmt++;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') {
            lng = 1;
            fmt++;
        }
        switch (*fmt) {
        case 'd': {
            int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
            if (v < 0) {
                kputc('-');
                put_u((uint64_t)-v, 10, width, pad);
            } else {
                put_u((uint64_t)v, 10, width, pad);
            }
            break;
        }
        case 'u': put_u(lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, width, pad); break;
        case 'x': put_u(lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, width, pad); break;
        case 'p':
            kputc('0');
            kputc('x');
            put_u((uint64_t)(uintptr_t)va_arg(ap, void *), 16, width, pad);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            for (s = s ? s : "(null)"; *s; s++)
                kputc(*s);
            break;
        }
        case 'c': kputc((char)va_arg(ap, int)); break;
        case '%': kputc('%'); break;
        default: kputc('?'); break;
        }
    }
    va_end(ap);
}

void qemu_exit(unsigned code)
{
    __asm__ volatile("outl %0, %1" ::"a"(code), "Nd"((uint16_t)0xf4));
    for (;;)
        __asm__ volatile("cli; hlt");
}

void panic(const char *what)
{
    kprintf("\nKERNEL PANIC: %s\nl4mm demo: FAIL\n", what);
    qemu_exit(EXIT_PANIC);
}
