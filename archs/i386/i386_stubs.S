# i386 guest stubs (non-PAE and PAE share them), assembled at build time
# (emu/GuestStubs.cmake). The host runs one routine per uc_emu_start and stops it at
# <routine>_done; the ud2 there would trap if ever executed.
# Branches target local labels only: a branch to a global symbol would be left as a
# relocation, which the raw .text image cannot carry (embed_stubs.cmake refuses it).
# Arguments: edi, esi, edx (archs/x86/x86_stub_abi.h). Mailbox fields are 8-byte slots whose
# low 32 bits are used (little endian), the same layout as amd64.
        .text
        .code32

# kva_copy(dst = edi, src = esi, nbytes = edx): 32-byte blocks, then 4-byte words, then bytes.
        .globl kva_copy, kva_copy_done
kva_copy:
        cmp     $32, %edx
        jb      2f
1:      mov     0(%esi), %eax
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
2:      cmp     $4, %edx
        jb      4f
3:      mov     (%esi), %eax
        mov     %eax, (%edi)
        add     $4, %esi
        add     $4, %edi
        sub     $4, %edx
        cmp     $4, %edx
        jae     3b
4:      test    %edx, %edx
        jz      9f
5:      movb    (%esi), %al
        movb    %al, (%edi)
        inc     %esi
        inc     %edi
        dec     %edx
        jnz     5b
9:
kva_copy_done:
        ud2

# kva_invlrng(va = edi, npages = esi): invlpg each page (pmap_invalidate_range's loop).
        .globl kva_invlrng, kva_invlrng_done
kva_invlrng:
        test    %esi, %esi
        jz      9f
1:      invlpg  (%edi)
        add     $4096, %edi
        dec     %esi
        jnz     1b
9:
kva_invlrng_done:
        ud2

# kva_invltlb(): reload CR3 (invltlb); global entries survive on hardware. On PAE this also
# reloads the four PDPTEs.
        .globl kva_invltlb, kva_invltlb_done
kva_invltlb:
        mov     %cr3, %eax
        mov     %eax, %cr3
kva_invltlb_done:
        ud2

# kva_ipi_handler(mailbox = edi): FreeBSD's invltlb/invlrng IPI handlers in one. Reads the
# request, performs it, then acknowledges by copying the generation into `done`.
        .globl kva_ipi_handler, kva_ipi_handler_done
kva_ipi_handler:
        mov     0(%edi), %eax           # op
        cmp     $1, %eax                # X86_IPI_INVLTLB
        je      3f
        mov     8(%edi), %ecx           # va
        mov     16(%edi), %edx          # npages
        test    %edx, %edx
        jz      4f
1:      invlpg  (%ecx)
        add     $4096, %ecx
        dec     %edx
        jnz     1b
        jmp     4f
3:      mov     %cr4, %eax             # invltlb_glob: the kernel pmap's invalidate_all
        mov     %eax, %edx
        and     $~0x80, %edx            # CR4.PGE off flushes global entries too
        mov     %edx, %cr4
        mov     %eax, %cr4
4:      mov     24(%edi), %eax          # generation
        mov     %eax, 32(%edi)          # done
kva_ipi_handler_done:
        ud2

# kva_invltlb_glob(): FreeBSD's invltlb_glob: turning CR4.PGE off and on again flushes every
# TLB entry, global ones included, and every paging-structure cache (a CR3 reload keeps global
# entries on hardware). On PAE it also reloads the four PDPTEs.
        .globl kva_invltlb_glob, kva_invltlb_glob_done
kva_invltlb_glob:
        mov     %cr4, %eax
        mov     %eax, %edx
        and     $~0x80, %edx
        mov     %edx, %cr4
        mov     %eax, %cr4
kva_invltlb_glob_done:
        ud2
