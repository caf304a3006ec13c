# amd64 guest stubs, assembled at build time (emu/GuestStubs.cmake). They follow the stub
# convention of emu/guest_isa.h, which the machine checks when it loads them:
#  - routine R runs from R to R_done, where `hlt` ends the run;
#  - every counting region starts with CHARGE n, n = the instructions that follow up to the next
#    CHARGE (branches end regions, branch targets start them); loop heads use LOOP_CHARGE, which
#    also stops runaway code once the budget in %rbp is spent. CHARGE clobbers the flags;
#  - branches target local labels only (a global target would need a relocation).
# Arguments: rdi, rsi, rdx; scratch: rax, rcx (archs/x86/x86_stub_abi.h). Routines and the
# mailbox layout: emu/stub_abi.h.
        .text
        .code64

        .macro CHARGE n
        sub     $\n, %rbp
        .endm
        .macro LOOP_CHARGE n
        sub     $\n, %rbp
        js      .Lbudget_exhausted
        .endm
        # 64 bytes from off(src) to off(dst) through xmm0-3: 8 instructions.
        .macro COPY64 off
        movdqu  \off(%rsi), %xmm0
        movdqu  \off+16(%rsi), %xmm1
        movdqu  \off+32(%rsi), %xmm2
        movdqu  \off+48(%rsi), %xmm3
        movdqu  %xmm0, \off(%rdi)
        movdqu  %xmm1, \off+16(%rdi)
        movdqu  %xmm2, \off+32(%rdi)
        movdqu  %xmm3, \off+48(%rdi)
        .endm

# kva_copy(dst = rdi, src = rsi, nbytes = rdx): the emulated access, a load from src or a
# store to dst through this vCPU's MMU and TLB; the other side is the vCPU's scratch page, which
# the kernel cannot execute, so stores there stay on Unicorn's fast path (emu/firmware.h).
# 256-byte blocks through SSE registers (QEMU splits a 16-byte access into two 8-byte ones, so
# this saves instructions, not accesses; few, long blocks matter because Unicorn runs a helper at
# every block's start), then 8-byte words, then bytes.
        .globl kva_copy, kva_copy_done
kva_copy:
        CHARGE  2
        cmp     $256, %rdx
        jb      2f
1:      LOOP_CHARGE 37
        .irp off, 0, 64, 128, 192
        COPY64 \off
        .endr
        add     $256, %rsi
        add     $256, %rdi
        sub     $256, %rdx
        cmp     $256, %rdx
        jae     1b
2:      CHARGE  2
        cmp     $8, %rdx
        jb      4f
3:      LOOP_CHARGE 7
        mov     (%rsi), %rax
        mov     %rax, (%rdi)
        add     $8, %rsi
        add     $8, %rdi
        sub     $8, %rdx
        cmp     $8, %rdx
        jae     3b
4:      CHARGE  2
        test    %rdx, %rdx
        jz      9f
5:      LOOP_CHARGE 6
        movb    (%rsi), %al
        movb    %al, (%rdi)
        inc     %rsi
        inc     %rdi
        dec     %rdx
        jnz     5b
9:
kva_copy_done:
        hlt

# kva_invlrng(va = rdi, npages = rsi): invlpg each page (pmap_invalidate_range's loop).
        .globl kva_invlrng, kva_invlrng_done
kva_invlrng:
        CHARGE  2
        test    %rsi, %rsi
        jz      9f
1:      LOOP_CHARGE 4
        invlpg  (%rdi)
        add     $4096, %rdi
        dec     %rsi
        jnz     1b
9:
kva_invlrng_done:
        hlt

# kva_invltlb(): reload CR3 (invltlb); global entries survive on hardware.
        .globl kva_invltlb, kva_invltlb_done
kva_invltlb:
        CHARGE  2
        mov     %cr3, %rax
        mov     %rax, %cr3
kva_invltlb_done:
        hlt

# kva_shootdown_handler(mailbox = rdi): FreeBSD's invltlb/invlrng IPI handlers in one. Reads
# the request this CPU was sent, performs it, then acknowledges by copying the generation into
# `done` (smp_tlb_done).
        .globl kva_shootdown_handler, kva_shootdown_handler_done
kva_shootdown_handler:
        CHARGE  3
        mov     0(%rdi), %rax           # op
        cmp     $1, %rax                # InvalOp::All
        je      3f
        CHARGE  4
        mov     8(%rdi), %rcx           # va
        mov     16(%rdi), %rdx          # npages
        test    %rdx, %rdx
        jz      4f
1:      LOOP_CHARGE 4
        invlpg  (%rcx)
        add     $4096, %rcx
        dec     %rdx
        jnz     1b
        CHARGE  1
        jmp     4f
3:      CHARGE  5
        mov     %cr4, %rax             # invltlb_glob: the kernel pmap's invalidate_all
        mov     %rax, %rdx
        and     $~0x80, %rdx            # CR4.PGE off flushes global entries too
        mov     %rdx, %cr4
        mov     %rax, %cr4
4:      CHARGE  2
        mov     24(%rdi), %rax          # generation
        mov     %rax, 32(%rdi)          # done
kva_shootdown_handler_done:
        hlt

# kva_invltlb_glob(): FreeBSD's invltlb_glob: turning CR4.PGE off and on again flushes every
# TLB entry, global ones included, and every paging-structure cache (a CR3 reload keeps global
# entries on hardware).
        .globl kva_invltlb_glob, kva_invltlb_glob_done
kva_invltlb_glob:
        CHARGE  5
        mov     %cr4, %rax
        mov     %rax, %rdx
        and     $~0x80, %rdx
        mov     %rdx, %cr4
        mov     %rax, %cr4
kva_invltlb_glob_done:
        hlt

# Where a failed budget check lands (LOOP_CHARGE): the host reports runaway guest code.
        .globl kva_budget_exhausted
.Lbudget_exhausted:
kva_budget_exhausted:
        hlt
