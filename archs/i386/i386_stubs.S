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

# kva_load(expect = edi, src = esi, nbytes = edx): loads nbytes at src (the emulated access,
# through this vCPU's MMU and TLB) and compares them with the bytes the host pre-wrote at
# expect. A 64-byte block (then a 4-byte word, then a byte) that differs is stored over
# expect, so expect ends up holding exactly what was loaded and an expected load stores
# nothing. The store path loads the block again, through the same TLB entry.
        .globl kva_load, kva_load_done
kva_load:
        CHARGE  2
        cmp     $64, %edx
        jb      3f
1:      LOOP_CHARGE 48
        mov     0(%esi), %eax
        xor     0(%edi), %eax
        mov     4(%esi), %ecx
        xor     4(%edi), %ecx
        or      %ecx, %eax
        mov     8(%esi), %ecx
        xor     8(%edi), %ecx
        or      %ecx, %eax
        mov     12(%esi), %ecx
        xor     12(%edi), %ecx
        or      %ecx, %eax
        mov     16(%esi), %ecx
        xor     16(%edi), %ecx
        or      %ecx, %eax
        mov     20(%esi), %ecx
        xor     20(%edi), %ecx
        or      %ecx, %eax
        mov     24(%esi), %ecx
        xor     24(%edi), %ecx
        or      %ecx, %eax
        mov     28(%esi), %ecx
        xor     28(%edi), %ecx
        or      %ecx, %eax
        mov     32(%esi), %ecx
        xor     32(%edi), %ecx
        or      %ecx, %eax
        mov     36(%esi), %ecx
        xor     36(%edi), %ecx
        or      %ecx, %eax
        mov     40(%esi), %ecx
        xor     40(%edi), %ecx
        or      %ecx, %eax
        mov     44(%esi), %ecx
        xor     44(%edi), %ecx
        or      %ecx, %eax
        mov     48(%esi), %ecx
        xor     48(%edi), %ecx
        or      %ecx, %eax
        mov     52(%esi), %ecx
        xor     52(%edi), %ecx
        or      %ecx, %eax
        mov     56(%esi), %ecx
        xor     56(%edi), %ecx
        or      %ecx, %eax
        mov     60(%esi), %ecx
        xor     60(%edi), %ecx
        or      %ecx, %eax
        jz      2f
        CHARGE  32
        mov     0(%esi), %eax
        mov     %eax, 0(%edi)
        mov     4(%esi), %eax
        mov     %eax, 4(%edi)
        mov     8(%esi), %eax
        mov     %eax, 8(%edi)
        mov     12(%esi), %eax
        mov     %eax, 12(%edi)
        mov     16(%esi), %eax
        mov     %eax, 16(%edi)
        mov     20(%esi), %eax
        mov     %eax, 20(%edi)
        mov     24(%esi), %eax
        mov     %eax, 24(%edi)
        mov     28(%esi), %eax
        mov     %eax, 28(%edi)
        mov     32(%esi), %eax
        mov     %eax, 32(%edi)
        mov     36(%esi), %eax
        mov     %eax, 36(%edi)
        mov     40(%esi), %eax
        mov     %eax, 40(%edi)
        mov     44(%esi), %eax
        mov     %eax, 44(%edi)
        mov     48(%esi), %eax
        mov     %eax, 48(%edi)
        mov     52(%esi), %eax
        mov     %eax, 52(%edi)
        mov     56(%esi), %eax
        mov     %eax, 56(%edi)
        mov     60(%esi), %eax
        mov     %eax, 60(%edi)
2:      CHARGE  5
        add     $64, %esi
        add     $64, %edi
        sub     $64, %edx
        cmp     $64, %edx
        jae     1b
3:      CHARGE  2
        cmp     $4, %edx
        jb      6f
4:      LOOP_CHARGE 3
        mov     (%esi), %eax
        cmp     (%edi), %eax
        je      5f
        CHARGE  1
        mov     %eax, (%edi)
5:      CHARGE  5
        add     $4, %esi
        add     $4, %edi
        sub     $4, %edx
        cmp     $4, %edx
        jae     4b
6:      CHARGE  2
        test    %edx, %edx
        jz      9f
7:      LOOP_CHARGE 3
        movb    (%esi), %al
        cmpb    (%edi), %al
        je      8f
        CHARGE  1
        movb    %al, (%edi)
8:      CHARGE  4
        inc     %esi
        inc     %edi
        dec     %edx
        jnz     7b
9:
kva_load_done:
        hlt

# kva_store(dst = edi, src = esi, nbytes = edx): 32-byte blocks, then 4-byte words, then bytes.
        .globl kva_store, kva_store_done
kva_store:
        CHARGE  2
        cmp     $32, %edx
        jb      2f
1:      LOOP_CHARGE 21
        mov     0(%esi), %eax
        mov     %eax, 0(%edi)
        mov     4(%esi), %eax
        mov     %eax, 4(%edi)
        mov     8(%esi), %eax
        mov     %eax, 8(%edi)
        mov     12(%esi), %eax
        mov     %eax, 12(%edi)
        mov     16(%esi), %eax
        mov     %eax, 16(%edi)
        mov     20(%esi), %eax
        mov     %eax, 20(%edi)
        mov     24(%esi), %eax
        mov     %eax, 24(%edi)
        mov     28(%esi), %eax
        mov     %eax, 28(%edi)
        add     $32, %esi
        add     $32, %edi
        sub     $32, %edx
        cmp     $32, %edx
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
kva_store_done:
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
3:      CHARGE  2
        mov     %cr3, %eax
        mov     %eax, %cr3
4:      CHARGE  2
        mov     24(%edi), %eax          # generation
        mov     %eax, 32(%edi)          # done
kva_shootdown_handler_done:
        hlt

# Where a failed budget check lands (LOOP_CHARGE): the host reports runaway guest code.
        .globl kva_budget_exhausted
.Lbudget_exhausted:
kva_budget_exhausted:
        hlt
