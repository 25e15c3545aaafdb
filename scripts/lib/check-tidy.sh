#!/usr/bin/env bash
# check-tidy.sh BUILD_DIR SOURCE_DIR [CLANG_TIDY] -- SOURCE...
# Runs clang-tidy (config: SOURCE_DIR/.clang-tidy, every enabled check an error) on the given
# library sources with the flags of BUILD_DIR/compile_commands.json. Exits 1 on any finding.
set -euo pipefail
build=$1 src=$2 tidy=${3:-clang-tidy}
shift 3
[[ ${1:-} == -- ]] && shift
command -v "$tidy" >/dev/null 2>&1 || { echo "check-tidy: $tidy not installed" >&2; exit 1; }
[[ -f $build/compile_commands.json ]] || { echo "check-tidy: no $build/compile_commands.json" >&2; exit 1; }
[[ $# -gt 0 ]] || { echo "check-tidy: no sources" >&2; exit 1; }
rc=0
for f in "$@"; do
    # --quiet: only findings; warnings are errors through .clang-tidy's WarningsAsErrors
    if ! "$tidy" --quiet -p "$build" --config-file="$src/.clang-tidy" "$f" 2>"$build/tidy.err"; then
        rc=1
        grep -v '^[0-9]* warnings\? generated' "$build/tidy.err" >&2 || true
    fi
done
[[ $rc == 0 ]] && echo "check-tidy: OK: $# source(s) clean"
exit $rc
