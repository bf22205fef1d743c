#!/usr/bin/env bash
# Sets up a fresh clone on Debian 12 and runs the main job: installs the system
# packages and the Python package (which builds the C runtime from source), then
# builds a small static C program and runs it sealed in a picoprocess.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
# nginx-light and chromium: the browser tests' origin and browser (Playwright drives Debian's chromium,
# never a browser of its own); ghostscript and libosmesa6-dev: the gs and gldemo images of images/.
for pkg in gcc make binutils musl-tools libseccomp2 libarchive13 busybox-static strace python3.11 libpython3.11-testsuite lua5.4 sqlite3 espeak-ng \
           nginx-light chromium ghostscript libosmesa6-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need_apt+=("$pkg")
done
# The kernel's own headers (include/linux/syscalls.h) for the syscall catalogue's generator.
kernel_headers=$(compgen -G '/usr/src/linux-headers-*-common/include/linux/syscalls.h' || true)
if [ ${#need_apt[@]} -gt 0 ] || [ -z "$kernel_headers" ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq
    if [ -z "$kernel_headers" ]; then
        need_apt+=("$(apt-cache pkgnames linux-headers- | grep -E '^linux-headers-[0-9.]+-[0-9]+-common$' | sort -V | tail -n 1)")
    fi
    echo "bootstrap: installing ${need_apt[*]}"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

echo "bootstrap: installing xax-emu (builds runtime_c/ with gcc)"
python3 -m pip install -q -e '.[test]'

echo "bootstrap: main job: a static C program, run sealed"
demo_dir=$(mktemp -d)
trap 'rm -rf "$demo_dir"' EXIT
musl-gcc -static -O2 -o "$demo_dir/hello" tests/programs/hello.c
xax-emu run --memory 256M --wall-seconds 30 "$demo_dir/hello" -- from the picoprocess
