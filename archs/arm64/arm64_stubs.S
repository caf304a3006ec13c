// arm64 guest stubs, assembled at build time (emu/GuestStubs.cmake). They follow the stub
// convention of emu/guest_isa.h, which the machine checks when it loads them:
//  - routine R runs from R to R_done, where `wfi` ends the run (the `brk` after it traps,
//    should the wfi ever fall through);
//  - every counting region starts with CHARGE n, n = the instructions that follow up to the
//    next CHARGE (branches end regions, branch targets start them); loop heads use
//    LOOP_CHARGE, which also stops runaway code once the budget in x28 is spent. Both keep
//    NZCV (sub, not subs);
//  - branches target local labels only (a global target would need a relocation).
// Arguments in x0..x4 (archs/arm64/arm64_stub_abi.h); x28 is the budget. Routines and the
// mailbox layout: emu/stub_abi.h.
//
// Every load and store of an emulated access addresses memory as [base] or [base, #imm], so
// the faulting VA of a data abort is recovered from the instruction (arm64_fault_address.h).
        .text

        .macro CHARGE n
        sub     x28, x28, #\n
        .endm
        .macro LOOP_CHARGE n
        sub     x28, x28, #\n
        tbnz    x28, #63, .Lbudget_exhausted
        .endm
        .macro HALT
        wfi
        brk     #0
        .endm
        // 64 bytes from off(src = x1) to off(dst = x0) through q0-q3: 4 instructions.
        .macro COPY64 off
        ldp     q0, q1, [x1, #\off]
        ldp     q2, q3, [x1, #\off + 32]
        stp     q0, q1, [x0, #\off]
        stp     q2, q3, [x0, #\off + 32]
        .endm
        // The global labels of a routine `name`, and of `alias` for the same code when given.
        .macro ENTRY name, alias
        .globl \name, \name\()_done
        .ifnb \alias
        .globl \alias, \alias\()_done
\alias:
        .endif
\name:
        .endm
        .macro DONE name, alias
        .ifnb \alias
\alias\()_done:
        .endif
\name\()_done:
        HALT
        .endm
        // TLBI operand for VA x0 and ASID x2 into x3: VA[55:12] in bits 43:0, ASID in 63:48.
        .macro TLBI_OPERAND
        lsr     x3, x0, #12
        and     x3, x3, #0xfffffffffff
        orr     x3, x3, x2, lsl #48
        .endm

// kva_boot(mair = x0, tcr = x1, ttbr0 = x2, ttbr1 = x3, sctlr = x4): FP/SIMD on at EL1
// (kva_copy uses q registers), then the MMU. QEMU caches MMU state that only guest writes of
// these registers refresh.
        .globl kva_boot, kva_boot_done
kva_boot:
        CHARGE  9
        mov     x5, #0x300000           // CPACR_EL1.FPEN = 0b11: no FP/SIMD traps
        msr     cpacr_el1, x5
        msr     mair_el1, x0
        msr     tcr_el1, x1
        msr     ttbr0_el1, x2
        msr     ttbr1_el1, x3
        isb
        msr     sctlr_el1, x4
        isb
kva_boot_done:
        HALT

// kva_copy(dst = x0, src = x1, nbytes = x2): the emulated access, a load from src or a store
// to dst through this vCPU's MMU and TLB; the other side is the vCPU's scratch page (PXN, so
// stores there stay on Unicorn's fast path). 256-byte blocks through q0-q3, then 8-byte
// words, then bytes.
        .globl kva_copy, kva_copy_done
kva_copy:
        CHARGE  2
        cmp     x2, #256
        b.lo    2f
1:      LOOP_CHARGE 21
        .irp off, 0, 64, 128, 192
        COPY64 \off
        .endr
        add     x1, x1, #256
        add     x0, x0, #256
        sub     x2, x2, #256
        cmp     x2, #256
        b.hs    1b
2:      CHARGE  2
        cmp     x2, #8
        b.lo    4f
3:      LOOP_CHARGE 7
        ldr     x3, [x1]
        str     x3, [x0]
        add     x1, x1, #8
        add     x0, x0, #8
        sub     x2, x2, #8
        cmp     x2, #8
        b.hs    3b
4:      CHARGE  1
        cbz     x2, 9f
5:      LOOP_CHARGE 6
        ldrb    w3, [x1]
        strb    w3, [x0]
        add     x1, x1, #1
        add     x0, x0, #1
        subs    x2, x2, #1
        b.ne    5b
9:
kva_copy_done:
        HALT

// TLBI by VA over a range: <name>(va = x0, npages = x1, asid = x2), FreeBSD's
// pmap_s1_invalidate_range sequence: dsb ishst, one tlbi per page, dsb ish, isb. The ASID is
// ignored by the all-ASID (…aa…) forms.
        .macro TLBI_RANGE name, op, alias
        ENTRY   \name, \alias
        CHARGE  5
        dsb     ishst
        TLBI_OPERAND
        cbz     x1, 9f
1:      LOOP_CHARGE 4
        tlbi    \op, x3
        add     x3, x3, #1
        subs    x1, x1, #1
        b.ne    1b
9:      CHARGE  2
        dsb     ish
        isb
        DONE    \name, \alias
        .endm

        TLBI_RANGE kva_tlbi_vae1is, vae1is
        TLBI_RANGE kva_tlbi_vale1is, vale1is
        TLBI_RANGE kva_tlbi_vaae1is, vaae1is
        TLBI_RANGE kva_tlbi_vaale1is, vaale1is
        TLBI_RANGE kva_tlbi_vae1, vae1
        TLBI_RANGE kva_tlbi_vale1, vale1
        TLBI_RANGE kva_tlbi_vaae1, vaae1
        // kva_invlrng(va, npages): this CPU only, the local form of FreeBSD's kernel TLBI.
        TLBI_RANGE kva_tlbi_vaale1, vaale1, kva_invlrng

// kva_tlbi_aside1is(asid = x0) / kva_tlbi_aside1(asid = x0): every non-global entry of an ASID.
        .macro TLBI_ASID name, op
        ENTRY   \name
        CHARGE  5
        dsb     ishst
        lsl     x3, x0, #48
        tlbi    \op, x3
        dsb     ish
        isb
        DONE    \name
        .endm

        TLBI_ASID kva_tlbi_aside1is, aside1is
        TLBI_ASID kva_tlbi_aside1, aside1

// kva_tlbi_vmalle1is() / kva_tlbi_vmalle1() (= kva_invltlb): every entry, global ones included.
        .macro TLBI_ALL name, op, alias
        ENTRY   \name, \alias
        CHARGE  4
        dsb     ishst
        tlbi    \op
        dsb     ish
        isb
        DONE    \name, \alias
        .endm

        TLBI_ALL kva_tlbi_vmalle1is, vmalle1is
        TLBI_ALL kva_tlbi_vmalle1, vmalle1, kva_invltlb

// kva_shootdown_handler(mailbox = x0): the remote half of a broadcast TLBI. Unicorn engines
// share no TLB, so the host runs this on every other vCPU after the issuer's inner-shareable
// TLBI: it performs the request in the mailbox locally (QEMU flushes by VA whatever the level or
// ASID, so vaae1 stands for every by-VA form) and acknowledges it by copying the generation
// into `done`.
        .globl kva_shootdown_handler, kva_shootdown_handler_done
kva_shootdown_handler:
        CHARGE  3
        ldr     x1, [x0]                // op
        cmp     x1, #1                  // InvalOp::All
        b.eq    3f
        CHARGE  6
        ldr     x3, [x0, #8]            // va
        ldr     x1, [x0, #16]           // npages
        dsb     ishst
        lsr     x3, x3, #12
        and     x3, x3, #0xfffffffffff
        cbz     x1, 4f
1:      LOOP_CHARGE 4
        tlbi    vaae1, x3
        add     x3, x3, #1
        subs    x1, x1, #1
        b.ne    1b
        CHARGE  1
        b       4f
3:      CHARGE  2
        dsb     ishst
        tlbi    vmalle1
4:      CHARGE  4
        dsb     ish
        isb
        ldr     x1, [x0, #24]           // generation
        str     x1, [x0, #32]           // done
kva_shootdown_handler_done:
        HALT

// Where a failed budget check lands (LOOP_CHARGE): the host reports runaway guest code.
        .globl kva_budget_exhausted
.Lbudget_exhausted:
kva_budget_exhausted:
        HALT
