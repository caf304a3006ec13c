# riscv64 guest stubs, assembled at build time (emu/GuestStubs.cmake). They follow the stub
# convention of emu/guest_isa.h, which the machine checks when it loads them:
#  - routine R runs from R to R_done, where `wfi` ends the run (HALT; the ebreak behind it
#    traps should the wfi ever fall through);
#  - every counting region starts with CHARGE n, n = the instructions that follow up to the next
#    CHARGE (branches end regions, branch targets start them); loop heads use LOOP_CHARGE, which
#    also stops runaway code once the budget in t6 is spent;
#  - branches target local labels only (a global target would need a relocation).
# Compressed instructions are off: every instruction is 4 bytes, which the trap decoder relies
# on (Unicorn reports a trap with pc already 4 past the trapping instruction).
# Arguments: a0..a7; scratch: t0..t3 (archs/riscv64/riscv_stub_abi.h). Routines and the mailbox
# layout: emu/stub_abi.h.
        .option norvc
        .text

        .macro CHARGE n
        addi    t6, t6, -\n
        .endm
        .macro LOOP_CHARGE n
        addi    t6, t6, -\n
        bltz    t6, .Lbudget_exhausted
        .endm
        .macro HALT
        wfi
        ebreak
        .endm

# Boot (not a routine): the host enters kva_mret in M-mode with satp, mstatus.MPP = S and
# mepc = kva_smode_entry set; mret drops to S-mode with paging on, and the halt ends the run.
        .globl kva_mret, kva_smode_entry
kva_mret:
        mret
kva_smode_entry:
        HALT

# kva_copy(dst = a0, src = a1, nbytes = a2): the emulated access, a load from src or a store
# to dst through this hart's MMU and TLB; the other side is the hart's scratch page, which the
# kernel cannot execute (emu/firmware.h). 64-byte blocks, then 8-byte words, then bytes.
        .globl kva_copy, kva_copy_done
kva_copy:
        CHARGE  2
        li      t1, 64
        bltu    a2, t1, 2f
1:      LOOP_CHARGE 20
        .irp off, 0, 8, 16, 24, 32, 40, 48, 56
        ld      t0, \off(a1)
        sd      t0, \off(a0)
        .endr
        addi    a1, a1, 64
        addi    a0, a0, 64
        addi    a2, a2, -64
        bgeu    a2, t1, 1b
2:      CHARGE  2
        li      t1, 8
        bltu    a2, t1, 4f
3:      LOOP_CHARGE 6
        ld      t0, 0(a1)
        sd      t0, 0(a0)
        addi    a1, a1, 8
        addi    a0, a0, 8
        addi    a2, a2, -8
        bgeu    a2, t1, 3b
4:      CHARGE  1
        beqz    a2, 9f
5:      LOOP_CHARGE 6
        lbu     t0, 0(a1)
        sb      t0, 0(a0)
        addi    a1, a1, 1
        addi    a0, a0, 1
        addi    a2, a2, -1
        bnez    a2, 5b
9:
kva_copy_done:
        HALT

# kva_invlrng(va = a0, npages = a1): sfence.vma va, x0 per page (FreeBSD's sfence_vma_page).
        .globl kva_invlrng, kva_invlrng_done
kva_invlrng:
        CHARGE  2
        lui     t1, 1                   # PAGE_SIZE
        beqz    a1, 9f
1:      LOOP_CHARGE 4
        sfence.vma a0
        add     a0, a0, t1
        addi    a1, a1, -1
        bnez    a1, 1b
9:
kva_invlrng_done:
        HALT

# kva_invltlb(): sfence.vma x0, x0: every address and ASID, global entries too (sfence_vma()).
        .globl kva_invltlb, kva_invltlb_done
kva_invltlb:
        CHARGE  1
        sfence.vma
kva_invltlb_done:
        HALT

# kva_shootdown_handler(mailbox = a0): what the firmware makes each target hart do for an SBI
# remote fence (OpenSBI: an IPI whose M-mode handler runs sfence.vma), from the request in
# this hart's mailbox; then acknowledges by copying the generation into `done`.
        .globl kva_shootdown_handler, kva_shootdown_handler_done
kva_shootdown_handler:
        CHARGE  3
        ld      t0, 0(a0)               # op
        li      t1, 1                   # InvalOp::All
        beq     t0, t1, 3f
        CHARGE  4
        ld      t2, 8(a0)               # va
        ld      t3, 16(a0)              # npages
        lui     t1, 1
        beqz    t3, 4f
1:      LOOP_CHARGE 4
        sfence.vma t2
        add     t2, t2, t1
        addi    t3, t3, -1
        bnez    t3, 1b
        CHARGE  1
        j       4f
3:      CHARGE  1
        sfence.vma
4:      CHARGE  2
        ld      t0, 24(a0)              # generation
        sd      t0, 32(a0)              # done
kva_shootdown_handler_done:
        HALT

# kva_invalidate_range(hart_mask = a0, hart_mask_base = a1, start = a2, size = a3): FreeBSD
# riscv's pmap_invalidate_range on the issuing hart: fence (order the PTE stores), an SBI
# remote sfence.vma to the other harts unless the mask is empty, then a local sfence.vma of the
# whole TLB.
        .globl kva_invalidate_range, kva_invalidate_range_done
kva_invalidate_range:
        CHARGE  2
        fence   rw, rw
        beqz    a0, 1f
        CHARGE  4
        li      a7, 0x52464E43          # SBI_EXT_ID_RFNC (2 instructions)
        li      a6, 1                   # SBI_RFNC_REMOTE_SFENCE_VMA
        ecall
1:      CHARGE  1
        sfence.vma
kva_invalidate_range_done:
        HALT

# kva_remote_sfence_vma(hart_mask = a0, hart_mask_base = a1, start = a2, size = a3): the
# remote half alone: fence, then the SBI call.
        .globl kva_remote_sfence_vma, kva_remote_sfence_vma_done
kva_remote_sfence_vma:
        CHARGE  5
        fence   rw, rw
        li      a7, 0x52464E43
        li      a6, 1
        ecall
kva_remote_sfence_vma_done:
        HALT

# kva_sfence_vma_asid(va = a0, asid = a1): sfence.vma va, asid: that page in that address
# space only; global entries survive.
        .globl kva_sfence_vma_asid, kva_sfence_vma_asid_done
kva_sfence_vma_asid:
        CHARGE  1
        sfence.vma a0, a1
kva_sfence_vma_asid_done:
        HALT

# kva_sfence_vma_asid_all(asid = a0): sfence.vma x0, asid: every address of that address space;
# global entries survive.
        .globl kva_sfence_vma_asid_all, kva_sfence_vma_asid_all_done
kva_sfence_vma_asid_all:
        CHARGE  1
        sfence.vma x0, a0
kva_sfence_vma_asid_all_done:
        HALT

# kva_ecall(a0..a3 = arguments, a4 = function ID, a5 = extension ID): a bare SBI call. The
# host plays the firmware and resumes after the ecall with a0 = error, a1 = value.
        .globl kva_ecall, kva_ecall_done
kva_ecall:
        CHARGE  3
        mv      a6, a4
        mv      a7, a5
        ecall
kva_ecall_done:
        HALT

# Where a failed budget check lands (LOOP_CHARGE): the host reports runaway guest code.
        .globl kva_budget_exhausted
.Lbudget_exhausted:
kva_budget_exhausted:
        HALT
