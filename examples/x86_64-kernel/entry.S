/*
 * entry.S - every way into the kernel (exceptions, syscall) builds the same frame
 * (struct regs in kernel.h) on the one kernel stack and calls kx_entry(), which never
 * returns: it leaves through kx_resume_iret or kx_resume_sysret.
 */
    .text

.macro PUSH_GPRS
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
.endm
.macro POP_GPRS
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
.endm

.macro ISR_NOERR n
    .globl kx_isr\n
kx_isr\n:
    pushq $0
    pushq $\n
    jmp isr_common
.endm
.macro ISR_ERR n
    .globl kx_isr\n
kx_isr\n:
    pushq $\n
    jmp isr_common
.endm

ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR 8
ISR_NOERR 9
ISR_ERR 10
ISR_ERR 11
ISR_ERR 12
ISR_ERR 13
ISR_ERR 14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR 17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR 21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR 29
ISR_ERR 30
ISR_NOERR 31

    .section .rodata
    .balign 8
    .globl kx_isr_table
kx_isr_table:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad kx_isr\n
    .endr

    .text
isr_common:
    PUSH_GPRS
    cld
    movq %rsp, %rdi
    call kx_entry
    ud2

/* syscall: rcx = user rip, r11 = user rflags, IF/DF/TF/AC masked by SFMASK. */
    .globl kx_syscall_entry
kx_syscall_entry:
    movq %rsp, kx_user_rsp_scratch(%rip)
    leaq kx_stack_top(%rip), %rsp
    pushq $0x1b                      /* ss: user data | 3   */
    pushq kx_user_rsp_scratch(%rip)  /* rsp                  */
    pushq %r11                       /* rflags               */
    pushq $0x23                      /* cs: user code | 3   */
    pushq %rcx                       /* rip                  */
    pushq $0                         /* error code           */
    pushq $0x100                     /* vector: marks syscall */
    PUSH_GPRS
    cld
    movq %rsp, %rdi
    call kx_entry
    ud2

/* void kx_resume_iret(const struct regs *r) */
    .globl kx_resume_iret
kx_resume_iret:
    movq %rdi, %rsp
    POP_GPRS
    addq $16, %rsp
    iretq

/* void kx_resume_sysret(const struct regs *r): back to a thread that entered by syscall */
    .globl kx_resume_sysret
kx_resume_sysret:
    movq %rdi, %rsp
    POP_GPRS
    movq 16(%rsp), %rcx              /* rip    */
    movq 32(%rsp), %r11              /* rflags */
    movq 40(%rsp), %rsp              /* user rsp */
    sysretq

    .data
    .balign 8
    .globl kx_user_rsp_scratch
kx_user_rsp_scratch: .quad 0

/* The user-level tasks' image (an ELF64 linked at U_IMAGE), loaded by kx_load_image. */
    .section .rodata
    .balign 16
    .globl kx_user_elf, kx_user_elf_end
kx_user_elf:
    .incbin USER_ELF_PATH
kx_user_elf_end:

    .section .note.GNU-stack, "", @progbits
