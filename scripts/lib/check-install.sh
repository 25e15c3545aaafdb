#!/usr/bin/env bash
# check-install.sh BUILD_DIR SOURCE_DIR C_COMPILER WORK_DIR
# Installs the l4mm build in BUILD_DIR into a fresh prefix under WORK_DIR, checks the layout
# (headers incl. version.h, libl4mm.a, l4mm.pc with absolute libdir and no Requires, CMake
# package files), then builds and runs tests/install/main.c twice: through find_package(l4mm)
# and through `pkg-config --cflags --libs l4mm`. Any failure exits non-zero.
set -euo pipefail
build=$1 src=$2 cc=$3 work=$4
fail() { echo "check-install: FAIL: $*" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }

libdir=
for d in lib lib64 lib/x86_64-linux-gnu; do
    [[ -f $prefix/$d/libl4mm.a ]] && libdir=$prefix/$d && break
done
[[ -n $libdir ]] || fail "libl4mm.a not installed under $prefix/lib*"
for f in include/l4mm/status.h include/l4mm/types.h include/l4mm/version.h; do
    [[ -f $prefix/$f ]] || fail "$f not installed"
done
for f in l4mmConfig.cmake l4mmConfigVersion.cmake l4mmTargets.cmake; do
    [[ -f $libdir/cmake/l4mm/$f ]] || fail "$libdir/cmake/l4mm/$f not installed"
done
pc=$libdir/pkgconfig/l4mm.pc
[[ -f $pc ]] || fail "l4mm.pc not installed in $libdir/pkgconfig"
echo "check-install: installed files:"
(cd "$prefix" && find . -type f | sort | sed 's/^/  /')

# --- pkg-config metadata ---
export PKG_CONFIG_PATH=$libdir/pkgconfig
export PKG_CONFIG_LIBDIR=$libdir/pkgconfig   # only our .pc, never the system's
pkg-config --exists --print-errors l4mm || fail "pkg-config cannot read l4mm.pc"
pc_libdir=$(pkg-config --variable=libdir l4mm)
[[ $pc_libdir == /* ]] || fail "l4mm.pc libdir is not absolute: '$pc_libdir'"
[[ $pc_libdir -ef $libdir ]] || fail "l4mm.pc libdir '$pc_libdir' is not where libl4mm.a is ($libdir)"
[[ -z $(pkg-config --print-requires l4mm) && -z $(pkg-config --print-requires-private l4mm) ]] ||
    fail "l4mm.pc must require nothing"
want_ver=$(sed -n 's/^#define L4MM_VERSION_STRING "\([^"]*\)".*/\1/p' "$prefix/include/l4mm/version.h")
[[ $(pkg-config --modversion l4mm) == "$want_ver" ]] || fail "l4mm.pc version != version.h ($want_ver)"

# --- consumer 1: find_package ---
cmake -S "$src/tests/install" -B "$work/fp" -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$prefix" \
    >"$work/fp-configure.log" 2>&1 || { cat "$work/fp-configure.log"; fail "find_package consumer: configure"; }
cmake --build "$work/fp" >"$work/fp-build.log" 2>&1 || { cat "$work/fp-build.log"; fail "find_package consumer: build"; }
"$work/fp/consumer" || fail "find_package consumer: run"

# --- consumer 2: pkg-config ---
# shellcheck disable=SC2046
"$cc" -std=c11 -o "$work/pc-consumer" "$src/tests/install/main.c" \
    $(pkg-config --cflags l4mm) $(pkg-config --libs l4mm) || fail "pkg-config consumer: build"
"$work/pc-consumer" || fail "pkg-config consumer: run"
echo "check-install: OK (find_package and pkg-config consumers built and ran)"
