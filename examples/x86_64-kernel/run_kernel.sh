#!/bin/bash
# run_kernel.sh KERNEL [TRANSCRIPT] - boot the l4mm example kernel under QEMU and check it.
# Passes only on QEMU's exact pass status, (0x21 << 1) | 1 = 67 (a triple fault exits 0,
# a hang gives timeout's 124), and when every scenario's key transcript lines are present.
# Without QEMU: exit 77 (ctest: skipped), or 1 when CI or L4MM_REQUIRE_QEMU is set.
set -u
kernel=${1:?usage: run_kernel.sh KERNEL [TRANSCRIPT]}
out=${2:-$(mktemp)}
qemu=${QEMU:-qemu-system-x86_64}
mem=${L4MM_DEMO_MEM:-64}
pass_status=67

if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "run_kernel.sh: $qemu not found (Debian: apt-get install qemu-system-x86)" >&2
    if [ -n "${CI:-}" ] || [ -n "${L4MM_REQUIRE_QEMU:-}" ]; then
        echo "run_kernel.sh: FAIL: QEMU is required here (CI / L4MM_REQUIRE_QEMU)" >&2
        exit 1
    fi
    exit 77
fi
[ -f "$kernel" ] || { echo "run_kernel.sh: no kernel image $kernel" >&2; exit 1; }

# the transcript streams to the terminal and into $out
timeout "${L4MM_DEMO_TIMEOUT:-120}" "$qemu" -accel tcg -cpu "${L4MM_DEMO_CPU:-max}" -nodefaults -display none -no-reboot \
    -m "$mem" -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$kernel" ${L4MM_KERNEL_APPEND:+-append "$L4MM_KERNEL_APPEND"} </dev/null 2>&1 | tr -d '\r' | tee "$out"
status=${PIPESTATUS[0]}

fail=0
if [ "$status" -ne "$pass_status" ]; then
    case $status in
    0) why="triple fault or reset (QEMU exited 0)" ;;
    124) why="hang (timeout)" ;;
    97) why="the kernel reported FAIL" ;;
    99) why="kernel panic" ;;
    *) why="unexpected" ;;
    esac
    echo "run_kernel.sh: FAIL: QEMU exit status $status ($why), expected $pass_status" >&2
    fail=1
fi
# key lines of every scenario (fixed strings)
while IFS= read -r line; do
    [ -z "$line" ] && continue
    if ! grep -qF -- "$line" "$out"; then
        echo "run_kernel.sh: FAIL: transcript lacks: $line" >&2
        fail=1
    fi
done <<'LINES'
[boot] memory
idempotent roots in the mapdb
same handle (idempotent)
[boot] kernel pool: 28 boot pages
[boot] task sigma0
sigma0: l4mm_buddy owns
check ok
[msgq]
-> BUSY: queue full, nothing changed
want_pages(
refill IPC from kernel tid 1 queued for sigma0 (msgq 1/2): X.2 sigma0 RPC, any 64 KiB fpage
sigma0: sigma0 RPC from the kernel: any 64 KiB -> buddy block
[kpool] refill reply from sigma0:
refill_done
[fault] A: -w- access at 0x50000000
-> fault IPC to sigma0
sigma0: fault (label -2<<4|w) from task 3 at 0x50000000
[map] sigma0 -> A: map
PTE installed
A: resumed after the fault: wrote and read back 0xa1a1
malformed message refused (malformed wire data)
A: a message with 3 typed words -> malformed wire data
asked rw-, got r-- (rights never escalate)
-> EPERM: refused, rights never escalate
[map] A -> B: grant 0x50200000 -> va 0x60200000
[changed] A va 0x50200000 order 12 rw- -> ---: PTE cleared
B: got A's items: Q1 reads 0xa1a1 (A's P1), Q2 reads 0xb2b2 (granted P2)
A: B mapped its Q1 back to 0x50300000 (depth 3): reads 0xa1a1
EAGAIN (budget spent
[changed] B va 0x60000000 order 12 rw- -> ---: PTE cleared
[changed] A va 0x50300000 order 12 rw- -> ---: PTE cleared, invlpg
[unmap] finished after
A: unmap(P1, rwx) -> ok; P1 itself is still mine: 0xa1a1
B: Q1 faulted again after A's unmap
replying with a nil map item
nil map item (honest OOM)
[oom] DEFERRABLE:
work deferred
fallback DMA pool gives
policy kills task B
[kernel] task B killed: out of memory (OOM policy)
[oom] NORMAL:
[oom] CRITICAL: OK, served from the reserve
kernel still running
kpool_refill_failed
frames back into the buddy
[kpool] excess_pages(
surplus returned with kpool_reclaim
frames granted back to sigma0
sigma0: the kernel grants back
[check] l4mm_buddy_check (sigma0's frames, run by sigma0): ok
[check] l4mm_mapdb_check: ok
[check] l4mm_kpool_check: ok
[check] l4mm_buddy_check (DMA pool): ok
[check] l4mm_msgq_check: ok
l4mm demo: PASS
LINES
if grep -qE 'KERNEL PANIC|l4mm demo: FAIL' "$out"; then
    echo "run_kernel.sh: FAIL: the transcript reports a failure" >&2
    fail=1
fi
[ "$fail" -eq 0 ] && echo "run_kernel.sh: PASS (QEMU exit status $status)"
exit "$fail"
