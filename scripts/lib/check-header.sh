#!/usr/bin/env bash
# check-header.sh LANG HEADER SOURCE_DIR BINARY_DIR COMPILER WORK_DIR
#
# Compiles one public header alone, in a translation unit of its own:
#   LANG=c   : C11, the project's warning set as errors, no libc headers (-nostdinc: only the
#              compiler's freestanding <stdint.h> <stddef.h> <stdbool.h>), included twice
#              (include guard);
#   LANG=cxx : C++11 with -Wall -Wextra -Wpedantic -Werror, and every function the header
#              declares is referenced, then `nm` proves each has C linkage (an unmangled
#              name; a header without extern "C" yields _Z... names and fails).
# HEADER is the path below include/, e.g. l4mm/buddy.h.
set -euo pipefail
lang=$1 hdr=$2 srcdir=$3 bindir=$4 cc=$5 work=$6
mkdir -p "$work"
base=$(echo "$hdr" | tr '/.' '__')
inc=(-I "$srcdir/include" -I "$bindir/include")
hpath=$srcdir/include/$hdr
[[ -f $hpath ]] || hpath=$bindir/include/$hdr
[[ -f $hpath ]] || { echo "check-header: $hdr not found" >&2; exit 1; }

if [[ $lang == c ]]; then
    tu=$work/$base.c
    printf '#include <%s>\n#include <%s>\nint l4mm_header_check_%s(void);\n' "$hdr" "$hdr" "$base" >"$tu"
    cinc=$("$cc" -print-file-name=include)
    "$cc" -std=c11 -ffreestanding -nostdinc -isystem "$cinc" "${inc[@]}" \
        -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wcast-align \
        -Wmissing-prototypes -Wstrict-prototypes -Wundef -Werror -c "$tu" -o "$work/$base.c.o"
    echo "check-header: OK $hdr compiles alone as freestanding C11"
    exit 0
fi

# C++: reference every function declared by the header.
mapfile -t funcs < <(perl -0777 -ne '
    s{/\*.*?\*/}{}gs; s{//[^\n]*}{}g;          # comments
    s{^[ \t]*#[^\n]*(\\\n[^\n]*)*}{}gm;          # preprocessor lines (macro bodies)
    my %seen;
    while (/\b(l4mm_[a-z0-9_]+)\s*\((?!\s*\*)/g) { print "$1\n" unless $seen{$1}++ }' "$hpath")
tu=$work/$base.cpp
{
    printf '#include <%s>\n#include <%s>\n' "$hdr" "$hdr"
    printf 'void l4mm_header_check_refs(const void **out);\n'
    printf 'void l4mm_header_check_refs(const void **out)\n{\n    unsigned i = 0;\n    (void)out;\n    (void)i;\n'
    for f in "${funcs[@]}"; do
        printf '    out[i++] = reinterpret_cast<const void *>(&%s);\n' "$f"
    done
    printf '}\n'
} >"$tu"
"$cc" -x c++ -std=c++11 "${inc[@]}" -Wall -Wextra -Wpedantic -Werror -c "$tu" -o "$work/$base.cpp.o"
if command -v llvm-nm >/dev/null 2>&1; then nm="llvm-nm"; else nm="nm"; fi
mangled=$("$nm" -u "$work/$base.cpp.o" | awk '{print $NF}' | grep -E '^_Z.*l4mm_' || true)
if [[ -n $mangled ]]; then
    echo "check-header: FAIL $hdr: functions with C++ linkage (missing extern \"C\"):" >&2
    echo "$mangled" | sed 's/^/  /' >&2
    exit 1
fi
syms=$("$nm" "$work/$base.cpp.o" | awk '{print $NF}')
for f in "${funcs[@]}"; do
    # external functions: an unmangled undefined symbol (mangled ones failed above); static
    # inline functions are defined in the TU itself (clang++ mangles those: internal linkage)
    if ! grep -q -- "$f" <<<"$syms"; then
        echo "check-header: FAIL $hdr: no C symbol '$f' referenced (C linkage?)" >&2
        exit 1
    fi
done
echo "check-header: OK $hdr compiles alone as C++11; ${#funcs[@]} function(s) with C linkage"
