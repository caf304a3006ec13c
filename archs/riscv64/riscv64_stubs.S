# riscv64 guest stubs, assembled at build time (emu/GuestStubs.cmake). The host runs one routine
# per uc_emu_start and stops it at <routine>_done; the unimp there would trap (illegal
# instruction) if ever executed. Branches target local labels only (no relocations), and
# compressed instructions are off so every instruction is 4 bytes: the trap decoder relies on
# it (Unicorn reports pc + 4). Arguments: a0..a7 (archs/riscv64/riscv_stub_abi.h).
        .option norvc
        .text

# kva_boot: entered in M-mode with satp, mstatus.MPP = S and mepc = kva_boot_done set by the
# host; mret drops to S-mode with paging on and lands on kva_boot_done, where the run stops.
        .globl kva_boot, kva_boot_done
kva_boot:
        mret
kva_boot_done:
        unimp

# kva_copy(dst = a0, src = a1, nbytes = a2): 8-byte words, then bytes. Loads and stores of the
# emulated access go through the hart's MMU and TLB like any kernel access.
        .globl kva_copy, kva_copy_done
kva_copy:
        li      t1, 8
        bltu    a2, t1, 2f
1:      ld      t0, 0(a1)
        sd      t0, 0(a0)
        addi    a1, a1, 8
        addi    a0, a0, 8
        addi    a2, a2, -8
        bgeu    a2, t1, 1b
2:      beqz    a2, 9f
3:      lbu     t0, 0(a1)
        sb      t0, 0(a0)
        addi    a1, a1, 1
        addi    a0, a0, 1
        addi    a2, a2, -1
        bnez    a2, 3b
9:
kva_copy_done:
        unimp

# kva_sfence_vma(): sfence.vma x0, x0, every address and ASID, global entries included
# (FreeBSD's sfence_vma(), used by pmap_invalidate_range and pmap_kremove).
        .globl kva_sfence_vma, kva_sfence_vma_done
kva_sfence_vma:
        sfence.vma
kva_sfence_vma_done:
        unimp

# kva_sfence_vma_pages(va = a0, npages = a1): sfence.vma va, x0 per page (sfence_vma_page()).
        .globl kva_sfence_vma_pages, kva_sfence_vma_pages_done
kva_sfence_vma_pages:
        beqz    a1, 9f
        li      t1, 4096
1:      sfence.vma a0
        add     a0, a0, t1
        addi    a1, a1, -1
        bnez    a1, 1b
9:
kva_sfence_vma_pages_done:
        unimp

# kva_sfence_vma_asid(va = a0, asid = a1): sfence.vma va, asid: that page in that address
# space only; global entries survive.
        .globl kva_sfence_vma_asid, kva_sfence_vma_asid_done
kva_sfence_vma_asid:
        sfence.vma a0, a1
kva_sfence_vma_asid_done:
        unimp

# kva_ecall(a0..a5 arguments, a6 = function ID, a7 = extension ID): an SBI call. The host
# plays the firmware and resumes after the ecall with a0 = error, a1 = value.
        .globl kva_ecall, kva_ecall_done
kva_ecall:
        ecall
kva_ecall_done:
        unimp
