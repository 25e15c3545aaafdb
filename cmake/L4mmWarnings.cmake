# l4mm_warnings(target): the project's warning set, as errors, on one target only.
function(l4mm_warnings tgt)
  target_compile_options(${tgt} PRIVATE
    -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wcast-align
    -Wmissing-prototypes -Wstrict-prototypes -Wundef)
  if(L4MM_WERROR)
    target_compile_options(${tgt} PRIVATE -Werror)
  endif()
endfunction()
