# shellcheck shell=bash
# deps.sh - sourced by scripts/test (and usable by other scripts): install missing Debian
# packages. Checks each with dpkg (`dpkg-query -W`) first, so it costs nothing when all are present; installs
# the rest with apt-get (as root, or through sudo) with --no-install-recommends, saying what.

# The packages the full test command needs.
# shellcheck disable=SC2034 # used by the scripts that source this file
L4MM_TEST_PACKAGES=(
    cmake make gcc g++ libc6-dev pkg-config perl git ca-certificates
    libcmocka-dev
    doxygen graphviz
    clang lld llvm libclang-rt-14-dev clang-format clang-tidy
    afl++
    gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu
    gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu
    valgrind gcovr
    qemu-system-x86
)

# l4mm_package_installed PKG : true if PKG is installed (not merely known or half-removed).
l4mm_package_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

# l4mm_install_packages PKG... : installs those not installed yet; returns non-zero on failure.
l4mm_install_packages() {
    local missing=() p
    if ! command -v dpkg-query >/dev/null 2>&1; then
        echo "deps: not a Debian system (no dpkg-query); install by hand: $*" >&2
        return 1
    fi
    for p in "$@"; do
        l4mm_package_installed "$p" || missing+=("$p")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        echo "deps: all ${#} packages already installed"
        return 0
    fi
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "deps: missing packages (${missing[*]}) and neither root nor sudo; install them and re-run" >&2
            return 1
        fi
    fi
    echo "deps: installing ${#missing[@]} missing package(s): ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q >/dev/null ||
        { echo "deps: apt-get update failed" >&2; return 1; }
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        { echo "deps: apt-get install failed" >&2; return 1; }
    for p in "${missing[@]}"; do
        l4mm_package_installed "$p" || { echo "deps: $p still not installed" >&2; return 1; }
    done
    echo "deps: installed ${missing[*]}"
}
