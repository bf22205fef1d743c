#!/usr/bin/env bash
# Sets up a fresh clone on Debian 12 and runs the main job: installs the system
# packages and the Python package (which builds the C runtime from source), then
# builds a small static C program and runs it sealed in a picoprocess, and packs
# the demo apps (build/site) and uses one of them through `xax-emu serve`.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
# nginx-light and chromium: the browser tests' origin and browser (Playwright drives Debian's chromium,
# never a browser of its own); ghostscript and libosmesa6-dev: the gs and gldemo images of images/;
# clang and libclang-rt-14-dev: libFuzzer with ASan and UBSan for the C fuzz targets (tests/fuzz/cbuild.py);
# strace: `xax-emu init`; the porting corpus (tools/porting_corpus.py): text tools, compressors, audio,
# images, document tools, an interpreter; websocketd and wrk: the serve benchmarks' peer and load
# generator (benchmarks/bench_serve.py); lighttpd: the server images/lighttpd runs sealed (and the tests run
# natively to compare).
for pkg in gcc make binutils musl-tools libseccomp2 libarchive13 busybox-static strace python3.11 libpython3.11-testsuite lua5.4 sqlite3 espeak-ng \
           nginx-light chromium ghostscript libosmesa6-dev curl clang libclang-rt-14-dev \
           jq bc gawk sed grep xz-utils gzip zstd flac lame sox imagemagick libxml2-utils poppler-utils perl websocketd wrk lighttpd; do
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

echo "bootstrap: main job, part 2: the demo apps (build/site), and eSpeak through xax-emu serve"
python3 tools/demo_site.py build/site
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
origin_port=$(free_port)
serve_port=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory build/site "$origin_port" >/dev/null 2>&1 &
origin_pid=$!
xax-emu serve --origin "http://127.0.0.1:$origin_port" --listen "127.0.0.1:$serve_port" 2>"$demo_dir/serve.log" &
serve_pid=$!
trap 'kill $serve_pid $origin_pid 2>/dev/null || true; rm -rf "$demo_dir"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$serve_port/index.html" && break; sleep 0.1; done
gateway="http://127.0.0.1:$serve_port"
instance=$(curl -s -o /dev/null -w '%{redirect_url}' "$gateway/apps/espeak-ng.tar?xax")
echo "bootstrap: GET $gateway/apps/espeak-ng.tar?xax -> $instance"
curl -s --fail -X POST --data-binary "Hello from a sealed picoprocess." -o "$demo_dir/hello.wav" "${instance}speak"
echo "bootstrap: POST ${instance}speak -> $(stat -c %s "$demo_dir/hello.wav") bytes, a $(head -c 4 "$demo_dir/hello.wav") WAV"
kill "$serve_pid" "$origin_pid"
wait "$serve_pid" "$origin_pid" 2>/dev/null || true
cat <<EOF
bootstrap: done.  To use the apps from a browser, serve build/site from any static HTTP server, e.g.
    python3 -m http.server --bind 127.0.0.1 --directory build/site 8000 &
    xax-emu serve --origin http://127.0.0.1:8000 --listen 127.0.0.1:8118
and open http://127.0.0.1:8118/ in the browser (or run plain 'xax-emu serve' and make it the
browser's HTTP proxy, then open http://127.0.0.1:8000/).
EOF
