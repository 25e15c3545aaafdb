# Build-independent checks, registered as ctest tests (included by tests/CMakeLists.txt).
# Each one is a script in scripts/lib/ that exits non-zero when what it checks is broken:
#   freestanding_<target>   every library source, freestanding, 5 targets; nm -u allow-list
#   header_<h>_c / _cxx     each public header alone as C11 and as C++ (C linkage)
#   install_consumer        cmake --install + find_package and pkg-config consumers
#   subproject_*            add_subdirectory / FetchContent parents, their flags untouched
#   format                  clang-format --dry-run --Werror
#   tidy                    clang-tidy on src/ (.clang-tidy)
# Modules are discovered by globbing, so whatever modules are selected are checked.
if(NOT L4MM_BUILD_CHECKS)
  return()
endif()

set(_lib ${PROJECT_SOURCE_DIR}/scripts/lib)
set(_work ${PROJECT_BINARY_DIR}/checks)
set(_srcs)
foreach(s IN LISTS L4MM_SOURCES)
  if(NOT IS_ABSOLUTE ${s})
    set(s ${PROJECT_SOURCE_DIR}/${s})
  endif()
  list(APPEND _srcs ${s})
endforeach()

# ---- freestanding proof ---------------------------------------------------------------------
foreach(profile x86_64-gcc aarch64-gcc riscv64-gcc x86_64-clang i686-clang)
  add_test(NAME freestanding_${profile}
           COMMAND ${_lib}/check-freestanding.sh ${profile} ${PROJECT_SOURCE_DIR}
                   ${PROJECT_BINARY_DIR} ${_work}/freestanding-${profile} ${_srcs})
  set_tests_properties(freestanding_${profile} PROPERTIES LABELS "check;freestanding"
                       SKIP_RETURN_CODE 77)
endforeach()

# ---- every public header alone, C11 and C++ -------------------------------------------------
include(CheckLanguage)
check_language(CXX)
if(CMAKE_CXX_COMPILER)
  enable_language(CXX)
endif()
set(_headers)
file(GLOB _hdrs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/include/l4mm/*.h)
foreach(h IN LISTS _hdrs)
  get_filename_component(_hn ${h} NAME_WE)
  if(_hn STREQUAL "l4mm")
    if(L4MM_ALL_SELECTED) # the umbrella includes every module header
      list(APPEND _headers l4mm)
    endif()
  elseif(NOT _hn IN_LIST L4MM_ALL_MODULES OR _hn IN_LIST L4MM_MODULES)
    list(APPEND _headers ${_hn})
  endif()
endforeach()
list(APPEND _headers version) # generated into the build tree
foreach(hn IN LISTS _headers)
  add_test(NAME header_${hn}_c
           COMMAND ${_lib}/check-header.sh c l4mm/${hn}.h ${PROJECT_SOURCE_DIR}
                   ${PROJECT_BINARY_DIR} ${CMAKE_C_COMPILER} ${_work}/headers)
  set_tests_properties(header_${hn}_c PROPERTIES LABELS "check;headers")
  if(CMAKE_CXX_COMPILER)
    add_test(NAME header_${hn}_cxx
             COMMAND ${_lib}/check-header.sh cxx l4mm/${hn}.h ${PROJECT_SOURCE_DIR}
                     ${PROJECT_BINARY_DIR} ${CMAKE_CXX_COMPILER} ${_work}/headers)
    set_tests_properties(header_${hn}_cxx PROPERTIES LABELS "check;headers")
  else()
    message(WARNING "l4mm: no C++ compiler: the C++ header tests are not registered")
  endif()
endforeach()

# ---- packaging and subprojects (not meaningful for instrumented builds) -----------------------
if(NOT L4MM_SANITIZE AND NOT L4MM_COVERAGE)
  if(L4MM_INSTALL)
    add_test(NAME install_consumer
             COMMAND ${_lib}/check-install.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}
                     ${CMAKE_C_COMPILER} ${_work}/install)
    set_tests_properties(install_consumer PROPERTIES LABELS "check;install")
  endif()
  string(REPLACE ";" "," _mods "${L4MM_MODULES}") # a ;-list would be split into arguments
  foreach(mode add-subdirectory fetchcontent)
    string(REPLACE "-" "_" _tn ${mode})
    add_test(NAME subproject_${_tn}
             COMMAND ${_lib}/check-subproject.sh ${mode} ${PROJECT_SOURCE_DIR} ${CMAKE_C_COMPILER}
                     "${_mods}" ${_work}/subproject-${mode})
    set_tests_properties(subproject_${_tn} PROPERTIES LABELS "check;subproject")
  endforeach()
endif()

# ---- style ----------------------------------------------------------------------------------
find_program(L4MM_CLANG_FORMAT NAMES clang-format clang-format-14)
if(L4MM_CLANG_FORMAT)
  add_test(NAME format COMMAND ${_lib}/check-format.sh ${PROJECT_SOURCE_DIR} ${L4MM_CLANG_FORMAT})
else()
  add_test(NAME format COMMAND ${CMAKE_COMMAND} -E echo "format: clang-format not installed")
  set_tests_properties(format PROPERTIES WILL_FAIL ON) # missing tool = failed check
endif()
set_tests_properties(format PROPERTIES LABELS "check;format")

find_program(L4MM_CLANG_TIDY NAMES clang-tidy clang-tidy-14)
if(CMAKE_EXPORT_COMPILE_COMMANDS)
  set(_tidy ${L4MM_CLANG_TIDY})
  if(NOT _tidy)
    set(_tidy clang-tidy) # the script reports it missing and fails
  endif()
  add_test(NAME tidy COMMAND ${_lib}/check-tidy.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR}
                             ${_tidy} -- ${_srcs})
  set_tests_properties(tidy PROPERTIES LABELS "check;tidy")
endif()
