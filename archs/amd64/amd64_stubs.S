# amd64 guest stubs, assembled at build time (emu/GuestStubs.cmake). The host runs one routine
# per uc_emu_start and stops it at <routine>_done; the ud2 there would trap if ever executed.
# Branches target local labels only: a branch to a global symbol would be left as a
# relocation, which the raw .text image cannot carry (embed_stubs.cmake refuses it).
# Arguments: rdi, rsi, rdx (archs/x86/x86_stub_abi.h). Mailbox layout: x86_stub_abi.h too.
        .text
        .code64

# kva_copy(dst = rdi, src = rsi, nbytes = rdx): 64-byte blocks, then 8-byte words, then bytes. Loads and stores
# of the emulated access go through the vCPU's MMU and TLB like any kernel access.
        .globl kva_copy, kva_copy_done
kva_copy:
        cmp     $64, %rdx
        jb      2f
1:      mov     0(%rsi), %rax
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
2:      cmp     $8, %rdx
        jb      4f
3:      mov     (%rsi), %rax
        mov     %rax, (%rdi)
        add     $8, %rsi
        add     $8, %rdi
        sub     $8, %rdx
        cmp     $8, %rdx
        jae     3b
4:      test    %rdx, %rdx
        jz      9f
5:      movb    (%rsi), %al
        movb    %al, (%rdi)
        inc     %rsi
        inc     %rdi
        dec     %rdx
        jnz     5b
9:
kva_copy_done:
        ud2

# kva_invlrng(va = rdi, npages = rsi): invlpg each page (pmap_invalidate_range's loop).
        .globl kva_invlrng, kva_invlrng_done
kva_invlrng:
        test    %rsi, %rsi
        jz      9f
1:      invlpg  (%rdi)
        add     $4096, %rdi
        dec     %rsi
        jnz     1b
9:
kva_invlrng_done:
        ud2

# kva_invltlb(): reload CR3 (invltlb); global entries survive on hardware.
        .globl kva_invltlb, kva_invltlb_done
kva_invltlb:
        mov     %cr3, %rax
        mov     %rax, %cr3
kva_invltlb_done:
        ud2

# kva_ipi_handler(mailbox = rdi): FreeBSD's invltlb/invlrng IPI handlers in one. Reads the
# request this CPU was sent, performs it, then acknowledges by copying the generation into
# `done` (smp_tlb_done).
        .globl kva_ipi_handler, kva_ipi_handler_done
kva_ipi_handler:
        mov     0(%rdi), %rax           # op
        cmp     $1, %rax                # X86_IPI_INVLTLB
        je      3f
        mov     8(%rdi), %rcx           # va
        mov     16(%rdi), %rdx          # npages
        test    %rdx, %rdx
        jz      4f
1:      invlpg  (%rcx)
        add     $4096, %rcx
        dec     %rdx
        jnz     1b
        jmp     4f
3:      mov     %cr4, %rax             # invltlb_glob: the kernel pmap's invalidate_all
        mov     %rax, %rdx
        and     $~0x80, %rdx            # CR4.PGE off flushes global entries too
        mov     %rdx, %cr4
        mov     %rax, %cr4
4:      mov     24(%rdi), %rax          # generation
        mov     %rax, 32(%rdi)          # done
kva_ipi_handler_done:
        ud2

# kva_invltlb_glob(): FreeBSD's invltlb_glob: turning CR4.PGE off and on again flushes every
# TLB entry, global ones included, and every paging-structure cache (a CR3 reload keeps global
# entries on hardware). On PAE it also reloads the four PDPTEs.
        .globl kva_invltlb_glob, kva_invltlb_glob_done
kva_invltlb_glob:
        mov     %cr4, %rax
        mov     %rax, %rdx
        and     $~0x80, %rdx
        mov     %rdx, %cr4
        mov     %rax, %cr4
kva_invltlb_glob_done:
        ud2
