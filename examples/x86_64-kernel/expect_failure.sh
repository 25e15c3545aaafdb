#!/bin/bash
# expect_failure.sh KERNEL INJECTION EXPECTED_STATUS - the boot check must not be vacuous:
# boot the kernel with a failure injected (multiboot command line "inject=..."), and pass
# only if run_kernel.sh rejects the run with QEMU's expected status (kfault: 99 panic,
# fail: 97, triple: 0 - a triple fault exits 0 -, hang: 124 from timeout).
set -u
kernel=$1 what=$2 expect=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log=$(mktemp)
L4MM_KERNEL_APPEND="inject=$what" L4MM_DEMO_TIMEOUT=${L4MM_DEMO_TIMEOUT:-4} \
    "$here/run_kernel.sh" "$kernel" "$log.transcript" >"$log" 2>&1
rc=$?
cat "$log"
if [ "$rc" -eq 77 ]; then
    rm -f "$log" "$log.transcript"
    exit 77
fi
ok=1
if [ "$rc" -eq 0 ]; then
    echo "expect_failure.sh: FAIL: inject=$what was accepted as a pass" >&2
    ok=0
elif ! grep -qF "QEMU exit status $expect (" "$log"; then
    echo "expect_failure.sh: FAIL: inject=$what: expected QEMU status $expect" >&2
    ok=0
fi
rm -f "$log" "$log.transcript"
[ "$ok" -eq 1 ] && echo "expect_failure.sh: OK: inject=$what rejected (status $expect)"
[ "$ok" -eq 1 ]
