#!/usr/bin/env bash
# check-freestanding.sh PROFILE SOURCE_DIR BINARY_DIR WORK_DIR SOURCE...
#
# The freestanding proof for one target. Compiles every library source with the PROFILE's
# compiler and kernel flags (no libc headers at all: -nostdinc, only the compiler's own
# <stdint.h>/<stddef.h>/<stdbool.h>), the project's warning set as errors and a stack-frame
# bound, links the objects into one relocatable object (ld -r) and checks:
#   1. `nm -u` lists only symbols from tests/freestanding/allowed-undefined.txt;
#   2. there is no writable data (.data/.bss/.tdata/...: l4mm has no global mutable state);
#   3. every global symbol it defines starts with l4mm_.
# Exits 77 (ctest SKIP) only if the profile's compiler is not installed.
#
# PROFILE: x86_64-gcc | aarch64-gcc | riscv64-gcc | x86_64-clang | i686-clang
set -euo pipefail
profile=$1 srcdir=$2 bindir=$3 work=$4
shift 4
[[ $# -gt 0 ]] || { echo "check-freestanding: no sources given" >&2; exit 1; }

common=(-std=c11 -O2 -ffreestanding -nostdlib -fno-builtin -fno-stack-protector -fno-pic
        -fno-asynchronous-unwind-tables
        -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow -Wcast-align
        -Wmissing-prototypes -Wstrict-prototypes -Wundef -Wvla -Werror)
case $profile in
x86_64-gcc)
    cc=(gcc) ld=(ld -r) flags=(-m64 -mcmodel=kernel -mno-red-zone -mgeneral-regs-only -fno-pie
                              -Wstack-usage=2048) ;;
aarch64-gcc)
    cc=(aarch64-linux-gnu-gcc) ld=(aarch64-linux-gnu-ld -r)
    flags=(-mgeneral-regs-only -mno-outline-atomics -fno-pie -Wstack-usage=2048) ;;
riscv64-gcc)
    cc=(riscv64-linux-gnu-gcc) ld=(riscv64-linux-gnu-ld -r)
    flags=(-march=rv64imac -mabi=lp64 -mcmodel=medany -fno-pie -Wstack-usage=2048) ;;
x86_64-clang)
    cc=(clang --target=x86_64-elf) ld=(ld.lld -r)
    flags=(-mcmodel=kernel -mno-red-zone -mgeneral-regs-only -Wframe-larger-than=2048) ;;
i686-clang)
    cc=(clang --target=i686-elf) ld=(ld.lld -r)
    flags=(-mno-red-zone -mgeneral-regs-only -Wframe-larger-than=2048) ;;
*)
    echo "check-freestanding: unknown profile '$profile'" >&2; exit 1 ;;
esac
for tool in "${cc[0]}" "${ld[0]}"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "check-freestanding: SKIP $profile: '$tool' is not installed (scripts/test installs it)"
        exit 77
    fi
done
if command -v llvm-nm >/dev/null 2>&1; then nm="llvm-nm"; else nm="nm"; fi

rm -rf "$work"
mkdir -p "$work"
# The compiler's own freestanding headers, nothing from libc.
cinc=$("${cc[@]}" -print-file-name=include)
[[ -f $cinc/stdint.h ]] || { echo "check-freestanding: no freestanding <stdint.h> in '$cinc'" >&2; exit 1; }
inc=(-nostdinc -isystem "$cinc" -I "$srcdir/include" -I "$bindir/include" -I "$srcdir/src")

# Two configurations: the default (L4MM_ASSERT traps) and a release kernel's
# (-DNDEBUG: asserts compiled out, so nothing may be used only in an assert; L4MM_HARDEN on).
check_variant() { # NAME EXTRA-FLAGS...
    local vname=$1
    shift
    local objs=() n=0 s o
    for s in "${sources[@]}"; do
        n=$((n + 1))
        o=$work/$vname-$n-$(basename "${s%.c}").o
        if ! "${cc[@]}" "${common[@]}" "${flags[@]}" "$@" "${inc[@]}" -c "$s" -o "$o"; then
            echo "check-freestanding: FAIL $profile ($vname): $s does not compile freestanding" >&2
            return 1
        fi
        objs+=("$o")
    done
    local rel=$work/l4mm-$profile-$vname.o
    "${ld[@]}" -o "$rel" "${objs[@]}" ||
        { echo "check-freestanding: FAIL $profile ($vname): ld -r" >&2; return 1; }

    # 1. undefined symbols against the allow-list
    local undef bad u a ok wdata
    mapfile -t undef < <("$nm" -u "$rel" | awk '{print $NF}' | sort -u)
    bad=()
    for u in "${undef[@]}"; do
        ok=0
        for a in "${allowed[@]}"; do [[ $u == "$a" ]] && ok=1; done
        [[ $ok == 1 ]] || bad+=("$u")
    done
    if [[ ${#bad[@]} -gt 0 ]]; then
        echo "check-freestanding: FAIL $profile ($vname): undefined symbols not in the allow-list: ${bad[*]}" >&2
        for u in "${bad[@]}"; do
            for o in "${objs[@]}"; do
                "$nm" -u "$o" | awk '{print $NF}' | grep -qx -- "$u" && echo "  $u <- $(basename "$o")" >&2
            done
        done
        return 1
    fi

    # 2. no writable data: any allocated+writable section with contents or size is global state
    #    (.data.rel.ro is const data that only needs relocating, so it is allowed).
    wdata=$(readelf -S -W "$rel" | sed -n 's/^ *\[ *[0-9]*\] //p' |
            awk '{ name=$1; size=$5; flg=$7;
                   if (flg ~ /W/ && flg ~ /A/ && size !~ /^0+$/ && name !~ /^\.data\.rel\.ro/) print name" ("size" bytes)" }')
    if [[ -n $wdata ]]; then
        echo "check-freestanding: FAIL $profile ($vname): writable data (global mutable state) in:" >&2
        echo "$wdata" | sed 's/^/  /' >&2
        return 1
    fi

    # 3. namespace: a kernel links l4mm into its own image, so every global symbol l4mm
    #    defines must carry the l4mm_ prefix (no clash with the kernel's names).
    local foreign
    foreign=$("$nm" -g --defined-only "$rel" | awk '{print $NF}' | grep -v '^l4mm_' || true)
    if [[ -n $foreign ]]; then
        echo "check-freestanding: FAIL $profile ($vname): global symbols without the l4mm_ prefix:" >&2
        echo "$foreign" | sed 's/^/  /' >&2
        return 1
    fi

    echo "check-freestanding: OK $profile ($vname): ${#objs[@]} source(s) -> $(basename "$rel");" \
         "undefined: ${undef[*]:-(none)}"
}
sources=("$@")
mapfile -t allowed < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$srcdir/tests/freestanding/allowed-undefined.txt")
check_variant debug || exit 1
check_variant release -DNDEBUG -DL4MM_HARDEN=1 || exit 1
