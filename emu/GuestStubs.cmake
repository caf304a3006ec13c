# Guest stubs are assembled at build time: llvm-mc turns an arch's .S file into an object, the
# .text bytes and the global symbols are extracted, and embed_stubs.cmake writes them into a
# C++ header (a byte array plus a symbol table), so no assembler is needed at run time.
#
#   kva_guest_stubs(<target> <name> <llvm-mc triple> <source.S>)
# makes "stubs/<name>.h" (namespace kva::stubs, object <name>) available to <target>.
find_program(KVA_LLVM_OBJCOPY NAMES llvm-objcopy llvm-objcopy-14 llvm-objcopy-15 llvm-objcopy-16 REQUIRED)
find_program(KVA_LLVM_READOBJ NAMES llvm-readobj llvm-readobj-14 llvm-readobj-15 llvm-readobj-16 REQUIRED)
find_program(KVA_LLVM_NM NAMES llvm-nm llvm-nm-14 llvm-nm-15 llvm-nm-16 REQUIRED)

function(kva_guest_stubs target name triple src)
  set(KVA_EMBED_STUBS_SCRIPT ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/embed_stubs.cmake)
  set(dir ${CMAKE_BINARY_DIR}/generated/stubs)
  set(obj ${dir}/${name}.o)
  set(bin ${dir}/${name}.bin)
  set(hdr ${dir}/${name}.h)
  add_custom_command(
    OUTPUT ${hdr}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND ${LLVM_MC} -triple=${triple} -filetype=obj -o ${obj} ${src}
    COMMAND ${KVA_LLVM_OBJCOPY} -O binary --only-section=.text ${obj} ${bin}
    COMMAND ${CMAKE_COMMAND} -DNM=${KVA_LLVM_NM} -DREADOBJ=${KVA_LLVM_READOBJ} -DOBJ=${obj} -DBIN=${bin} -DOUT=${hdr}
            -DNAME=${name} -P ${KVA_EMBED_STUBS_SCRIPT}
    DEPENDS ${src} ${KVA_EMBED_STUBS_SCRIPT}
    COMMENT "Assembling guest stubs ${name} (${triple})"
    VERBATIM)
  # A custom target carries the dependency, since <target> may live in another directory.
  add_custom_target(${name}_gen DEPENDS ${hdr})
  add_dependencies(${target} ${name}_gen)
  target_include_directories(${target} PUBLIC ${CMAKE_BINARY_DIR}/generated)
endfunction()
