#!/usr/bin/env bash
# check-subproject.sh MODE SOURCE_DIR C_COMPILER MODULES WORK_DIR
# MODE: add-subdirectory | fetchcontent. Configures, builds and runs the parent project
# tests/install/parent-MODE, which consumes l4mm as a subproject and checks (at configure time)
# that l4mm touched none of its global flags. MODULES is a comma-separated list (may be empty).
set -euo pipefail
mode=$1 src=$2 cc=$3 modules=${4//,/;} work=$5
rm -rf "$work"
mkdir -p "$(dirname "$work")"
cmake -S "$src/tests/install/parent-$mode" -B "$work" -DCMAKE_C_COMPILER="$cc" \
    -DL4MM_SOURCE_DIR="$src" "-DL4MM_MODULES=$modules" >"$work.configure.log" 2>&1 ||
    { cat "$work.configure.log"; echo "check-subproject: FAIL $mode: configure" >&2; exit 1; }
cmake --build "$work" >"$work.build.log" 2>&1 ||
    { cat "$work.build.log"; echo "check-subproject: FAIL $mode: build" >&2; exit 1; }
"$work/app" || { echo "check-subproject: FAIL $mode: the parent's program failed" >&2; exit 1; }
echo "check-subproject: OK $mode"
