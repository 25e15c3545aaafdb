/*
 * boot.S - multiboot (v1) entry: QEMU's -kernel loads us through the header's "a.out
 * kludge" address fields (it refuses ELF64), so the image is a flat binary at 1 MiB.
 * 32-bit protected mode -> 4-level paging (the first 1 GiB identity-mapped and mirrored at
 * KERNEL_VMA with 2 MiB pages) -> long mode -> kmain(magic, mbi) at the higher half.
 */
#define KERNEL_VMA 0xffffffff80000000
#define MB_MAGIC 0x1badb002
#define MB_FLAGS ((1 << 1) | (1 << 16)) /* memory info; address fields valid */

    .section .multiboot, "a"
    .balign 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long mb_header                 /* header_addr   (physical)       */
    .long 0x100000                  /* load_addr                       */
    .long kx_load_end - KERNEL_VMA  /* load_end_addr                   */
    .long kx_bss_end - KERNEL_VMA   /* bss_end_addr: loader zeroes bss */
    .long start32                   /* entry_addr                      */

    .section .boot.text, "ax"
    .code32
    .globl start32
start32:
    cli
    movl %eax, %edi                 /* multiboot magic -> kmain arg 1 */
    movl %ebx, %esi                 /* multiboot info  -> kmain arg 2 */
    movl $(kx_stack_top - KERNEL_VMA), %esp

    /* PD: 512 x 2 MiB pages covering physical [0, 1 GiB), supervisor, writable */
    movl $(kx_boot_pd - KERNEL_VMA), %ebx
    movl $0x83, %eax
    movl $512, %ecx
1:  movl %eax, (%ebx)
    movl $0, 4(%ebx)
    addl $0x200000, %eax
    addl $8, %ebx
    loop 1b
    /* PDPT low[0] and PDPT high[510] -> PD; PML4[0] -> low, PML4[511] -> high */
    movl $(kx_boot_pd - KERNEL_VMA + 3), %eax
    movl %eax, (kx_boot_pdpt_lo - KERNEL_VMA)
    movl %eax, (kx_boot_pdpt_hi - KERNEL_VMA + 510 * 8)
    movl $(kx_boot_pdpt_lo - KERNEL_VMA + 3), %eax
    movl %eax, (kx_boot_pml4 - KERNEL_VMA)
    movl $(kx_boot_pdpt_hi - KERNEL_VMA + 3), %eax
    movl %eax, (kx_boot_pml4 - KERNEL_VMA + 511 * 8)

    movl %cr4, %eax
    orl $(1 << 5), %eax             /* PAE */
    movl %eax, %cr4
    movl $(kx_boot_pml4 - KERNEL_VMA), %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx          /* EFER: LME | NXE | SCE */
    rdmsr
    orl $((1 << 8) | (1 << 11) | (1 << 0)), %eax
    wrmsr
    movl %cr0, %eax
    orl $((1 << 31) | (1 << 16) | 1), %eax /* PG | WP | PE */
    movl %eax, %cr0
    lgdt boot_gdt_ptr
    ljmp $0x08, $long_entry

    .code64
long_entry:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $kx_stack_top, %rsp
    movabsq $kmain, %rax
    callq *%rax
2:  hlt
    jmp 2b

    .section .boot.data, "aw"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data        */
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt

    .section .bss
    .balign 4096
    .globl kx_boot_pml4
kx_boot_pml4: .skip 4096
kx_boot_pdpt_lo: .skip 4096
kx_boot_pdpt_hi: .skip 4096
kx_boot_pd: .skip 4096
    .globl kx_stack_bottom, kx_stack_top
kx_stack_bottom: .skip 16384
kx_stack_top:
    .globl kx_df_stack_top
    .skip 4096
kx_df_stack_top:

    .section .note.GNU-stack, "", @progbits
