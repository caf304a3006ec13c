# Locates kvabench's external libraries.
#  - Unicorn and Capstone come from the PyPI wheels in the project venv (scripts/deps.sh):
#    their packages carry include/ and lib/. Older versions are refused with a fix-it message.
#  - yaml-cpp, GoogleTest and Google Benchmark come from Debian packages.

if(SKBUILD)
  set(kva_default_python "${Python_EXECUTABLE}")  # the pyproject build environment
else()
  set(kva_default_python "${PROJECT_SOURCE_DIR}/.venv/bin/python")
endif()
set(KVA_PYTHON "${kva_default_python}" CACHE FILEPATH
    "Python of the project venv that holds the unicorn and capstone wheels")

function(kva_find_wheel_library pkg out_include out_lib)
  execute_process(
    COMMAND "${KVA_PYTHON}" -c "import ${pkg}, os; print(os.path.dirname(${pkg}.__file__))"
    OUTPUT_VARIABLE dir OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
  if(NOT rc EQUAL 0 OR NOT EXISTS "${dir}/include")
    message(FATAL_ERROR
      "kvabench: the Python package '${pkg}' (with C headers) was not found by ${KVA_PYTHON}.\n"
      "Run 'make deps' (or scripts/deps.sh) to install the pinned versions into .venv/.")
  endif()
  file(GLOB libs "${dir}/lib/lib${pkg}.so" "${dir}/lib/lib${pkg}.so.*")
  if(NOT libs)
    message(FATAL_ERROR "kvabench: no shared lib${pkg} under ${dir}/lib. Run 'make deps'.")
  endif()
  list(GET libs 0 lib)
  set(${out_include} "${dir}/include" PARENT_SCOPE)
  set(${out_lib} "${lib}" PARENT_SCOPE)
endfunction()

function(kva_header_version header regex out)
  file(STRINGS "${header}" lines REGEX "${regex}")
  string(REGEX REPLACE ".*${regex}[ \t]+([0-9]+).*" "\\1" v "${lines}")
  set(${out} "${v}" PARENT_SCOPE)
endfunction()

kva_find_wheel_library(unicorn UNICORN_INCLUDE_DIR UNICORN_LIBRARY)
kva_header_version("${UNICORN_INCLUDE_DIR}/unicorn/unicorn.h" "#define UC_API_MAJOR" UC_MAJOR)
kva_header_version("${UNICORN_INCLUDE_DIR}/unicorn/unicorn.h" "#define UC_API_MINOR" UC_MINOR)
kva_header_version("${UNICORN_INCLUDE_DIR}/unicorn/unicorn.h" "#define UC_API_PATCH" UC_PATCH)
if("${UC_MAJOR}.${UC_MINOR}" VERSION_LESS 2.1)
  message(FATAL_ERROR
    "kvabench: Unicorn ${UC_MAJOR}.${UC_MINOR}.${UC_PATCH} is too old; >= 2.1 is required "
    "(2.0.x translates VAs as PAs on x86). Run 'make deps' to install the pinned wheel.")
endif()

kva_find_wheel_library(capstone CAPSTONE_INCLUDE_DIR CAPSTONE_LIBRARY)
kva_header_version("${CAPSTONE_INCLUDE_DIR}/capstone/capstone.h" "#define CS_API_MAJOR" CS_MAJOR)
if(CS_MAJOR LESS 5)
  message(FATAL_ERROR
    "kvabench: Capstone ${CS_MAJOR}.x is too old; >= 5 is required (4.x has no RISC-V). "
    "Run 'make deps' to install the pinned wheel.")
endif()
message(STATUS "kvabench: Unicorn ${UC_MAJOR}.${UC_MINOR}.${UC_PATCH} (${UNICORN_LIBRARY})")
message(STATUS "kvabench: Capstone ${CS_MAJOR}.x (${CAPSTONE_LIBRARY})")

add_library(unicorn::unicorn SHARED IMPORTED GLOBAL)
set_target_properties(unicorn::unicorn PROPERTIES
  IMPORTED_LOCATION "${UNICORN_LIBRARY}" IMPORTED_NO_SONAME FALSE
  INTERFACE_INCLUDE_DIRECTORIES "${UNICORN_INCLUDE_DIR}")
add_library(capstone::capstone SHARED IMPORTED GLOBAL)
set_target_properties(capstone::capstone PROPERTIES
  IMPORTED_LOCATION "${CAPSTONE_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${CAPSTONE_INCLUDE_DIR}")

# Capstone's wheel ships lib/libcapstone.so whose SONAME is libcapstone.so.5, a file the wheel
# lacks. Build-tree binaries find it through a symlink on the build RPATH; the installed Python
# module instead relies on `import capstone` having loaded the library first.
set(KVA_SONAME_SHIM_DIR ${CMAKE_BINARY_DIR}/soname-shims)
file(MAKE_DIRECTORY ${KVA_SONAME_SHIM_DIR})
file(CREATE_LINK ${CAPSTONE_LIBRARY} ${KVA_SONAME_SHIM_DIR}/libcapstone.so.5 SYMBOLIC)
list(APPEND CMAKE_BUILD_RPATH ${KVA_SONAME_SHIM_DIR})

find_package(yaml-cpp REQUIRED)
if(KVA_BUILD_TESTS)
  find_package(GTest REQUIRED)
  find_package(benchmark REQUIRED)
endif()
find_program(LLVM_MC NAMES llvm-mc llvm-mc-14 llvm-mc-15 llvm-mc-16 REQUIRED)
