"""limits.py: one validation for limits and sizes, and its bounds held against the
mechanisms that enforce them (the kernel's rlimits, the Monitor's selector, the
BOOT message and the channel that carries it)."""
from __future__ import annotations

import math
import os
import resource
import select
import socket
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xax_emu import protocol as p
from xax_emu.limits import (IMAGE_STRINGS_MAX, RANGES, LimitError, boot_strings_max, channel_for_boot, check,
                            check_boot_strings, check_image_strings, from_text, parse_size, size_text)
from xax_emu.seal import filter_bpf, notify_filter_bpf

MiB, TiB = 1 << 20, 1 << 40


@pytest.mark.parametrize("key, value, words", [
    ("memory", 0, "from 16M to 128T bytes, not 0"),                  # 0 is not "no limit"
    ("memory", 2**70, "from 16M to 128T bytes"),
    ("memory", 1e999, "a whole number of bytes, not inf"),
    ("memory", 268435456.5, "a whole number of bytes, not 268435456.5"),
    ("memory", True, "not a boolean"),
    ("cpu_seconds", -1, "from 1 to 1000000000 seconds, not -1"),
    ("cpu_seconds", 10**23, "from 1 to 1000000000 seconds"),
    ("wall_seconds", math.inf, "a finite number of seconds, not inf"),
    ("wall_seconds", math.nan, "a finite number of seconds, not nan"),
    ("wall_seconds", 0, "from 0.001 to 2147483 seconds"),
    ("download", 0, "from 1 to 128T bytes"),
    ("threads", 4097, "from 1 to 4096 threads"),
])
def test_out_of_range_values_are_refused_with_the_range(key, value, words):
    with pytest.raises(LimitError, match="^must be") as e:
        check(key, value)
    assert words in str(e.value) and e.value.key == key


@pytest.mark.parametrize("key, text, words", [
    ("cpu_seconds", "99999999999999999999999", "not '99999999999999999999999'"),
    ("cpu_seconds", "-1", "from 1 to"),
    ("cpu_seconds", "1.5", "not a whole number of seconds"),
    ("memory", "99999999999T", "from 16M to 128T bytes, not '99999999999T'"),
    ("memory", "0", "from 16M"),
    ("memory", "9" * 5000, "not a size"),        # no int() of 5000 digits (Python refuses past 4300)
    ("wall_seconds", "inf", "a finite number"),
    ("wall_seconds", "nan", "a finite number"),  # NaN compares false with everything: it used to mean no limit
    ("wall_seconds", "1e999", "a finite number"),
    ("wall_seconds", "ten", "not a number of seconds"),
    ("threads", "", "not a whole number of threads"),
])
def test_command_line_text(key, text, words):
    with pytest.raises(LimitError) as e:
        from_text(key, text)
    assert words in str(e.value) and len(str(e.value)) < 200


def test_accepted_values():
    assert from_text("memory", "16M") == 16 * MiB and from_text("memory", "128T") == 128 * TiB
    assert from_text("wall_seconds", "2.5") == 2.5 and isinstance(check("wall_seconds", 3), float)
    assert from_text("cpu_seconds", " 7 ") == 7 and from_text("download", "1") == 1
    assert parse_size("64MiB") == 64 * MiB and parse_size("1 KB") == 1024 and parse_size("7B") == 7
    assert size_text(16 * MiB) == "16M" and size_text(1000) == "1000"


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(RANGES)), st.one_of(st.integers(), st.floats(), st.text(), st.booleans(), st.none()))
def test_check_returns_a_value_in_range_or_refuses(key, value):
    r = RANGES[key]
    try:
        got = check(key, value)
    except LimitError as e:
        assert e.key == key and "\n" not in str(e)
        return
    assert r.low <= got <= r.high and math.isfinite(got)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(RANGES)), st.text(max_size=80) | st.from_regex(r"-?\d{1,30}[KMGTkmgt]?(i?B)?"))
def test_from_text_returns_a_value_in_range_or_refuses(key, text):
    try:
        got = from_text(key, text)
    except LimitError as e:
        assert "\n" not in str(e) and len(str(e)) < 200
        return
    assert RANGES[key].low <= got <= RANGES[key].high


# -- the bounds are what the mechanisms take ------------------------------------------------

def test_the_highest_limits_fit_the_boot_message():
    boot = p.encode_boot(monitor_pid=1, limit_as=RANGES["memory"].high, limit_cpu=RANGES["cpu_seconds"].high + 1,
                         limit_threads=RANGES["threads"].high, flags=0, bpf=filter_bpf(), args=[b"x"], env=[],
                         random=bytes(32))
    assert len(boot) > p.BOOT.size
    with pytest.raises(p.BootError, match="limit_as"):
        p.encode_boot(monitor_pid=1, limit_as=2**64, limit_cpu=0, limit_threads=1, flags=0, bpf=filter_bpf(),
                      args=[b"x"], env=[], random=bytes(32))


def test_the_kernel_takes_the_highest_rlimits():
    """The boot block sets RLIMIT_AS to memory and RLIMIT_CPU to (cpu, cpu + 1): the
    kernel accepts the top of each range (on a child, as the boot block does)."""
    child = subprocess.Popen(["sleep", "30"])
    try:
        high_as, high_cpu = RANGES["memory"].high, RANGES["cpu_seconds"].high
        resource.prlimit(child.pid, resource.RLIMIT_AS, (high_as, high_as))
        resource.prlimit(child.pid, resource.RLIMIT_CPU, (high_cpu, high_cpu + 1))
        assert resource.prlimit(child.pid, resource.RLIMIT_AS) == (high_as, high_as)
        assert resource.prlimit(child.pid, resource.RLIMIT_CPU) == (high_cpu, high_cpu + 1)
    finally:
        child.kill()
        child.wait()


def test_the_selector_takes_the_longest_wall_clock_limit():
    """The Monitor waits with epoll, whose timeout is a C int of milliseconds: the
    top of the range is accepted, a little more is not (an fd is ready: no wait)."""
    r, w = os.pipe()
    os.write(w, b"x")
    ep = select.epoll()
    try:
        ep.register(r, select.EPOLLIN)
        assert ep.poll(RANGES["wall_seconds"].high) == [(r, select.EPOLLIN)]
        with pytest.raises(OverflowError):
            ep.poll(RANGES["wall_seconds"].high + 1)
    finally:
        ep.close()
        os.close(r)
        os.close(w)


def test_a_channel_made_for_boot_carries_what_it_says():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with a, b:
        n = channel_for_boot(a)
        a.send(b"x" * n)
        assert len(b.recv(n + 1)) == n
        with pytest.raises(OSError):  # EMSGSIZE
            a.send(b"x" * (n + 1))


def test_the_largest_run_strings_fit_one_boot_message():
    """boot_strings_max() bytes of strings, with both filters at their largest and the
    Monitor's own settings, make a BOOT message no larger than the protocol allows."""
    room = boot_strings_max()
    strings = [b"a" * 1000] * (room // 1001) + [b"b" * (room % 1001 - 1)]
    boot = p.encode_boot(monitor_pid=1, limit_as=0, limit_cpu=0, limit_threads=1, flags=p.BOOT_FLAG_COUNT_KERNEL,
                         bpf=bytes(4096 * 8), notify_bpf=bytes(4096 * 8), args=strings, env=[], random=bytes(32),
                         pal=[b"s" * 1023])
    assert sum(len(s) + 1 for s in strings) == room
    assert len(boot) <= p.HEADER_SIZE + p.MAX_BOOT
    assert len(notify_filter_bpf()) <= 4096 * 8 and len(filter_bpf()) <= 4096 * 8
    check_boot_strings([s.decode() for s in strings])
    with pytest.raises(LimitError, match="over the"):
        check_boot_strings([s.decode() for s in strings] + ["c"])


def test_image_strings():
    check_image_strings("/bin/app", ["a" * 1000] * 100, {"A": "1"}, "/")
    with pytest.raises(LimitError, match=f"over the {IMAGE_STRINGS_MAX >> 10} KiB"):
        check_image_strings("/bin/app", ["a" * 1000] * 200, {}, "/")
    with pytest.raises(LimitError, match="not valid UTF-8"):
        check_image_strings("/bin/app", ["\udcff"], {}, "/")  # an image's strings are text: JSON's, UTF-8
    with pytest.raises(LimitError, match="contains NUL"):
        check_image_strings("/bin/app", [], {"A": "\0"}, "/")
