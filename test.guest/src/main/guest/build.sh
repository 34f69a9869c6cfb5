#!/bin/sh
# Assembles the test guest: xentest.S (through the C preprocessor) and xentest.ld into an
# unmodified-PVH ELF image, twice: <output file> calls Xen through the hypercall page, and
# <output file without .elf>-vmcall.elf (-DXEN_VMCALL) with VMCALL/VMMCALL as Linux does.
#
#   build.sh <source dir> <work dir> <output file>
#
# Run by Maven (exec-maven-plugin, generate-resources) with the output in
# target/classes/test/guest/xentest.elf, so that the jar carries it. Without an x86-64 gcc/as/ld
# it prints a warning and exits 0, building nothing: the build never fails for a missing
# toolchain (TestGuestImage.bytes() is then empty). A source that does not assemble fails it.
# CC and LD may name other tools (e.g. x86_64-linux-gnu-gcc on another architecture).
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 <source dir> <work dir> <output file>" >&2
    exit 2
fi
src=$1
work=$2
out=$3
cc=${CC:-gcc}
ld=${LD:-ld}

warn() {
    echo "[WARNING] test.guest: $*; the test guest image is not built" >&2
    exit 0
}

command -v "$cc" >/dev/null 2>&1 || warn "$cc not found"
command -v "$ld" >/dev/null 2>&1 || warn "$ld not found"
machine=$("$cc" -dumpmachine 2>/dev/null) || warn "$cc -dumpmachine failed"
case "$machine" in
    x86_64-*|amd64-*) ;;
    *) warn "$cc targets $machine, not x86-64 (set CC and LD to an x86-64 toolchain)" ;;
esac
# gcc runs as(1) itself: check that it is there rather than fail on it.
"$cc" -print-prog-name=as >/dev/null 2>&1 || warn "$cc cannot find an assembler"
as_prog=$("$cc" -print-prog-name=as)
command -v "$as_prog" >/dev/null 2>&1 || warn "assembler $as_prog not found"

set -e
mkdir -p "$work" "$(dirname "$out")"
# build <name> [cpp flags...]: $work/<name>.elf, copied next to $out
build() {
    name=$1
    shift
    rm -f "$work/$name.o" "$work/$name.elf"
    "$cc" -c -m64 -nostdinc -Wa,--fatal-warnings -Wa,--noexecstack "$@" \
        -o "$work/$name.o" "$src/xentest.S"
    "$ld" -T "$src/xentest.ld" -nostdlib --build-id=none -z max-page-size=0x1000 -z noexecstack \
        -Map="$work/$name.map" -o "$work/$name.elf" "$work/$name.o"
    cp "$work/$name.elf" "$(dirname "$out")/$name.elf"
    echo "test.guest: built $(dirname "$out")/$name.elf"
}
rm -f "$out" "${out%.elf}-vmcall.elf"
build "$(basename "${out%.elf}")"
build "$(basename "${out%.elf}")-vmcall" -DXEN_VMCALL
