#!/usr/bin/env bash
# check-format.sh SOURCE_DIR [CLANG_FORMAT]
# clang-format --dry-run --Werror (style: SOURCE_DIR/.clang-format) over every *.c and *.h in
# src/ include/ tests/ fuzz/ bench/ examples/. Lists every badly formatted file; exits 1 if any.
set -euo pipefail
src=$1 cf=${2:-clang-format}
command -v "$cf" >/dev/null 2>&1 || { echo "check-format: $cf not installed" >&2; exit 1; }
cd "$src"
mapfile -t files < <(find src include tests fuzz bench examples \
    \( -name 'build*' -o -name corpus -o -name 'out*' -o -name work \) -prune -o \
    -type f \( -name '*.c' -o -name '*.h' \) -print 2>/dev/null | sort)
[[ ${#files[@]} -gt 0 ]] || { echo "check-format: no files found" >&2; exit 1; }
bad=()
for f in "${files[@]}"; do
    "$cf" --style=file --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [[ ${#bad[@]} -gt 0 ]]; then
    echo "check-format: FAIL: ${#bad[@]} of ${#files[@]} file(s) need clang-format -i:" >&2
    printf '  %s\n' "${bad[@]}" >&2
    "$cf" --style=file --dry-run "${bad[0]}" 2>&1 | head -20 >&2
    exit 1
fi
echo "check-format: OK: ${#files[@]} file(s) formatted"
