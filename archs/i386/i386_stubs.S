# i386 guest stubs (non-PAE and PAE share them), assembled at build time
# (emu/GuestStubs.cmake). They follow the stub convention of emu/guest_isa.h, which the machine
# checks when it loads them:
#  - routine R runs from R to R_done, where `hlt` ends the run;
#  - every counting region starts with CHARGE n, n = the instructions that follow up to the next
#    CHARGE (branches end regions, branch targets start them); loop heads use LOOP_CHARGE, which
#    also stops runaway code once the budget in %ebp is spent. CHARGE clobbers the flags;
#  - branches target local labels only (a global target would need a relocation).
# Arguments: edi, esi, edx; scratch: eax, ecx (archs/x86/x86_stub_abi.h). Routines and the
# mailbox layout (8-byte slots, low 32 bits used): emu/stub_abi.h.
        .text
        .code32

        .macro CHARGE n
        sub     $\n, %ebp
        .endm
        .macro LOOP_CHARGE n
        sub     $\n, %ebp
        js      .Lbudget_exhausted
        .endm
        # 64 bytes from off(src) to off(dst) through xmm0-3: 8 instructions.
        .macro COPY64 off
        movdqu  \off(%esi), %xmm0
        movdqu  \off+16(%esi), %xmm1
        movdqu  \off+32(%esi), %xmm2
        movdqu  \off+48(%esi), %xmm3
        movdqu  %xmm0, \off(%edi)
        movdqu  %xmm1, \off+16(%edi)
        movdqu  %xmm2, \off+32(%edi)
        movdqu  %xmm3, \off+48(%edi)
        .endm

# kva_copy(dst = edi, src = esi, nbytes = edx): the emulated access, a load from src or a
# store to dst through this vCPU's MMU and TLB; the other side is the vCPU's scratch page, which
# the kernel cannot execute, so stores there stay on Unicorn's fast path (emu/firmware.h).
# 256-byte blocks through SSE registers (a 16-byte access is two 8-byte ones in QEMU: half the
# accesses of 4-byte words, and Unicorn runs a helper after each), then 4-byte words, then bytes.
        .globl kva_copy, kva_copy_done
kva_copy:
        CHARGE  2
        cmp     $256, %edx
        jb      2f
1:      LOOP_CHARGE 37
        .irp off, 0, 64, 128, 192
        COPY64 \off
        .endr
        add     $256, %esi
        add     $256, %edi
        sub     $256, %edx
        cmp     $256, %edx
        jae     1b
2:      CHARGE  2
        cmp     $4, %edx
        jb      4f
3:      LOOP_CHARGE 7
        mov     (%esi), %eax
        mov     %eax, (%edi)
        add     $4, %esi
        add     $4, %edi
        sub     $4, %edx
        cmp     $4, %edx
        jae     3b
4:      CHARGE  2
        test    %edx, %edx
        jz      9f
5:      LOOP_CHARGE 6
        movb    (%esi), %al
        movb    %al, (%edi)
        inc     %esi
        inc     %edi
        dec     %edx
        jnz     5b
9:
kva_copy_done:
        hlt

# kva_invlrng(va = edi, npages = esi): invlpg each page (pmap_invalidate_range's loop).
        .globl kva_invlrng, kva_invlrng_done
kva_invlrng:
        CHARGE  2
        test    %esi, %esi
        jz      9f
1:      LOOP_CHARGE 4
        invlpg  (%edi)
        add     $4096, %edi
        dec     %esi
        jnz     1b
9:
kva_invlrng_done:
        hlt

# kva_invltlb(): reload CR3 (invltlb); global entries survive on hardware. On PAE this also
# reloads the four PDPTEs.
        .globl kva_invltlb, kva_invltlb_done
kva_invltlb:
        CHARGE  2
        mov     %cr3, %eax
        mov     %eax, %cr3
kva_invltlb_done:
        hlt

# kva_shootdown_handler(mailbox = edi): FreeBSD's invltlb/invlrng IPI handlers in one. Reads
# the request, performs it, then acknowledges by copying the generation into `done`.
        .globl kva_shootdown_handler, kva_shootdown_handler_done
kva_shootdown_handler:
        CHARGE  3
        mov     0(%edi), %eax           # op
        cmp     $1, %eax                # InvalOp::All
        je      3f
        CHARGE  4
        mov     8(%edi), %ecx           # va
        mov     16(%edi), %edx          # npages
        test    %edx, %edx
        jz      4f
1:      LOOP_CHARGE 4
        invlpg  (%ecx)
        add     $4096, %ecx
        dec     %edx
        jnz     1b
        CHARGE  1
        jmp     4f
3:      CHARGE  5
        mov     %cr4, %eax             # invltlb_glob: the kernel pmap's invalidate_all
        mov     %eax, %edx
        and     $~0x80, %edx            # CR4.PGE off flushes global entries too
        mov     %edx, %cr4
        mov     %eax, %cr4
4:      CHARGE  2
        mov     24(%edi), %eax          # generation
        mov     %eax, 32(%edi)          # done
kva_shootdown_handler_done:
        hlt

# kva_invltlb_glob(): FreeBSD's invltlb_glob: turning CR4.PGE off and on again flushes every
# TLB entry, global ones included, and every paging-structure cache (a CR3 reload keeps global
# entries on hardware). On PAE it also reloads the four PDPTEs (SDM 4.4.1).
        .globl kva_invltlb_glob, kva_invltlb_glob_done
kva_invltlb_glob:
        CHARGE  5
        mov     %cr4, %eax
        mov     %eax, %edx
        and     $~0x80, %edx
        mov     %edx, %cr4
        mov     %eax, %cr4
kva_invltlb_glob_done:
        hlt

# Where a failed budget check lands (LOOP_CHARGE): the host reports runaway guest code.
        .globl kva_budget_exhausted
.Lbudget_exhausted:
kva_budget_exhausted:
        hlt
