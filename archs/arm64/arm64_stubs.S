// arm64 guest stubs, assembled at build time (emu/GuestStubs.cmake). The host runs one
// routine per uc_emu_start and stops it at <routine>_done; the brk there would trap if ever
// executed. Branches target local labels only (the raw .text image carries no relocations).
// Arguments in x0..x4 (archs/arm64/arm64_stub_abi.h).
//
// Every load and store of an emulated access uses a plain base register (post-index
// writeback), so the base register at a data abort is the faulting address
// (arm64_fault_address.h).
        .text

// kva_boot(mair = x0, tcr = x1, ttbr0 = x2, ttbr1 = x3, sctlr = x4): turn the MMU on. QEMU
// caches MMU state that only guest writes of these registers refresh.
        .globl kva_boot, kva_boot_done
kva_boot:
        msr     mair_el1, x0
        msr     tcr_el1, x1
        msr     ttbr0_el1, x2
        msr     ttbr1_el1, x3
        isb
        msr     sctlr_el1, x4
        isb
kva_boot_done:
        brk     #0

// kva_copy(dst = x0, src = x1, nbytes = x2): 64-byte blocks, then 8-byte words, then bytes.
        .globl kva_copy, kva_copy_done
kva_copy:
        cmp     x2, #64
        b.lo    2f
1:      ldp     x3, x4, [x1], #16
        stp     x3, x4, [x0], #16
        ldp     x3, x4, [x1], #16
        stp     x3, x4, [x0], #16
        ldp     x3, x4, [x1], #16
        stp     x3, x4, [x0], #16
        ldp     x3, x4, [x1], #16
        stp     x3, x4, [x0], #16
        sub     x2, x2, #64
        cmp     x2, #64
        b.hs    1b
2:      cmp     x2, #8
        b.lo    4f
3:      ldr     x3, [x1], #8
        str     x3, [x0], #8
        sub     x2, x2, #8
        cmp     x2, #8
        b.hs    3b
4:      cbz     x2, 9f
5:      ldrb    w3, [x1], #1
        strb    w3, [x0], #1
        subs    x2, x2, #1
        b.ne    5b
9:
kva_copy_done:
        brk     #0

// TLBI by VA over a range: kva_tlbi_<op>(va = x0, npages = x1, asid = x2). The operand holds
// VA[55:12] in bits 43:0 and the ASID in bits 63:48 (ignored by the all-ASID forms). The
// sequence is FreeBSD's pmap_s1_invalidate_range: dsb ishst, one tlbi per page, dsb ish, isb.
.macro TLBI_RANGE op
        .globl kva_tlbi_\op, kva_tlbi_\op\()_done
kva_tlbi_\op:
        dsb     ishst
        lsr     x3, x0, #12
        and     x3, x3, #0xfffffffffff
        orr     x3, x3, x2, lsl #48
        cbz     x1, 9f
1:      tlbi    \op, x3
        add     x3, x3, #1
        subs    x1, x1, #1
        b.ne    1b
9:      dsb     ish
        isb
kva_tlbi_\op\()_done:
        brk     #0
.endm

        TLBI_RANGE vae1is
        TLBI_RANGE vale1is
        TLBI_RANGE vaae1is
        TLBI_RANGE vaale1is
        TLBI_RANGE vae1
        TLBI_RANGE vale1
        TLBI_RANGE vaae1
        TLBI_RANGE vaale1

// kva_tlbi_aside1is(asid = x0) / kva_tlbi_aside1(asid = x0): every non-global entry of an ASID.
.macro TLBI_ASID op
        .globl kva_tlbi_\op, kva_tlbi_\op\()_done
kva_tlbi_\op:
        dsb     ishst
        lsl     x3, x0, #48
        tlbi    \op, x3
        dsb     ish
        isb
kva_tlbi_\op\()_done:
        brk     #0
.endm

        TLBI_ASID aside1is
        TLBI_ASID aside1

// kva_tlbi_vmalle1is() / kva_tlbi_vmalle1(): every entry, global ones included.
.macro TLBI_ALL op
        .globl kva_tlbi_\op, kva_tlbi_\op\()_done
kva_tlbi_\op:
        dsb     ishst
        tlbi    \op
        dsb     ish
        isb
kva_tlbi_\op\()_done:
        brk     #0
.endm

        TLBI_ALL vmalle1is
        TLBI_ALL vmalle1
