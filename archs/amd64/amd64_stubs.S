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

# kva_load(expect = rdi, src = rsi, nbytes = rdx): loads nbytes at src (the emulated access,
# through this vCPU's MMU and TLB) and compares them with the bytes the host pre-wrote at
# expect. A 64-byte block (then an 8-byte word, then a byte) that differs is stored over
# expect, so expect ends up holding exactly what was loaded and an expected load stores
# nothing. The store path loads the block again, through the same TLB entry.
        .globl kva_load, kva_load_done
kva_load:
        CHARGE  2
        cmp     $64, %rdx
        jb      3f
1:      LOOP_CHARGE 24
        mov     0(%rsi), %rax
        xor     0(%rdi), %rax
        mov     8(%rsi), %rcx
        xor     8(%rdi), %rcx
        or      %rcx, %rax
        mov     16(%rsi), %rcx
        xor     16(%rdi), %rcx
        or      %rcx, %rax
        mov     24(%rsi), %rcx
        xor     24(%rdi), %rcx
        or      %rcx, %rax
        mov     32(%rsi), %rcx
        xor     32(%rdi), %rcx
        or      %rcx, %rax
        mov     40(%rsi), %rcx
        xor     40(%rdi), %rcx
        or      %rcx, %rax
        mov     48(%rsi), %rcx
        xor     48(%rdi), %rcx
        or      %rcx, %rax
        mov     56(%rsi), %rcx
        xor     56(%rdi), %rcx
        or      %rcx, %rax
        jz      2f
        CHARGE  16
        mov     0(%rsi), %rax
        mov     %rax, 0(%rdi)
        mov     8(%rsi), %rax
        mov     %rax, 8(%rdi)
        mov     16(%rsi), %rax
        mov     %rax, 16(%rdi)
        mov     24(%rsi), %rax
        mov     %rax, 24(%rdi)
        mov     32(%rsi), %rax
        mov     %rax, 32(%rdi)
        mov     40(%rsi), %rax
        mov     %rax, 40(%rdi)
        mov     48(%rsi), %rax
        mov     %rax, 48(%rdi)
        mov     56(%rsi), %rax
        mov     %rax, 56(%rdi)
2:      CHARGE  5
        add     $64, %rsi
        add     $64, %rdi
        sub     $64, %rdx
        cmp     $64, %rdx
        jae     1b
3:      CHARGE  2
        cmp     $8, %rdx
        jb      6f
4:      LOOP_CHARGE 3
        mov     (%rsi), %rax
        cmp     (%rdi), %rax
        je      5f
        CHARGE  1
        mov     %rax, (%rdi)
5:      CHARGE  5
        add     $8, %rsi
        add     $8, %rdi
        sub     $8, %rdx
        cmp     $8, %rdx
        jae     4b
6:      CHARGE  2
        test    %rdx, %rdx
        jz      9f
7:      LOOP_CHARGE 3
        movb    (%rsi), %al
        cmpb    (%rdi), %al
        je      8f
        CHARGE  1
        movb    %al, (%rdi)
8:      CHARGE  4
        inc     %rsi
        inc     %rdi
        dec     %rdx
        jnz     7b
9:
kva_load_done:
        hlt

# kva_store(dst = rdi, src = rsi, nbytes = rdx): 64-byte blocks, then 8-byte words, then bytes.
        .globl kva_store, kva_store_done
kva_store:
        CHARGE  2
        cmp     $64, %rdx
        jb      2f
1:      LOOP_CHARGE 21
        mov     0(%rsi), %rax
        mov     %rax, 0(%rdi)
        mov     8(%rsi), %rax
        mov     %rax, 8(%rdi)
        mov     16(%rsi), %rax
        mov     %rax, 16(%rdi)
        mov     24(%rsi), %rax
        mov     %rax, 24(%rdi)
        mov     32(%rsi), %rax
        mov     %rax, 32(%rdi)
        mov     40(%rsi), %rax
        mov     %rax, 40(%rdi)
        mov     48(%rsi), %rax
        mov     %rax, 48(%rdi)
        mov     56(%rsi), %rax
        mov     %rax, 56(%rdi)
        add     $64, %rsi
        add     $64, %rdi
        sub     $64, %rdx
        cmp     $64, %rdx
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
kva_store_done:
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
3:      CHARGE  2
        mov     %cr3, %rax
        mov     %rax, %cr3
4:      CHARGE  2
        mov     24(%rdi), %rax          # generation
        mov     %rax, 32(%rdi)          # done
kva_shootdown_handler_done:
        hlt

# Where a failed budget check lands (LOOP_CHARGE): the host reports runaway guest code.
        .globl kva_budget_exhausted
.Lbudget_exhausted:
kva_budget_exhausted:
        hlt
