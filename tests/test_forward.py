"""forward(): a system call served by the Monitor (getrandom), and the Monitor's
checks of the FORWARD xaxcall."""
import errno

import pytest

from xax_emu import protocol as p
from xax_emu.syscalls.compiler import generate_c
from xax_emu.syscalls.profile import Profile, ProfileError, forward

from conftest import run_native, run_pico


@pytest.mark.parametrize("libc", ["musl", "glibc"])
def test_getrandom_is_served_by_the_monitor(build, libc):
    prog = build("programs/random.c", libc)
    native = run_native(prog)
    sealed = run_pico(prog, trace_all=True)
    assert sealed.stdout == native.stdout
    assert sealed.stdout.decode().splitlines() == [
        "sizes 32 32, differ 1, all zero 0", "big: ok", f"GRND_RANDOM|GRND_INSECURE: -1 errno {errno.EINVAL}"]
    getrandom = 318
    # every call was forwarded (glibc's malloc makes one more of its own at start-up)
    assert sealed.report.trace[(getrandom, p.TRACE_FORWARDED)] == (4 if libc == "musl" else 5)
    assert sealed.report.trace[(getrandom, p.TRACE_MISSING)] == 0


def test_forward_of_an_unserved_call_is_a_compile_error():
    with pytest.raises(ProfileError, match=r"syscall 'socket': the Monitor does not serve it.*forwardable: getrandom"):
        generate_c(Profile("p", syscalls={"socket": forward()}))


def test_monitor_checks_forward_requests():
    from types import SimpleNamespace

    from xax_emu.errors import ProtocolViolation
    from xax_emu.monitor.xaxcalls import XAXCALLS

    replies = []
    pico = SimpleNamespace(reply=lambda msg, arg, payload=b"": replies.append((arg, payload)))

    def serve_forward(msg):
        XAXCALLS[p.TYPES["FORWARD"]](pico, msg)
    msg = p.Message(p.TYPES["FORWARD"], -1, 0, 1, b"short")
    with pytest.raises(ProtocolViolation, match="FORWARD: payload of 5 bytes, expected 56"):
        serve_forward(msg)
    # an unknown or unforwardable number: -ENOSYS, nothing to copy
    for nr in (41, 99999, -5):
        serve_forward(p.Message(p.TYPES["FORWARD"], -1, 0, 1, p.FORWARD.pack(nr, 0, 0, 0, 0, 0, 0)))
        assert replies.pop() == (-1, p.FORWARD_RESULT.pack(-errno.ENOSYS))
    # getrandom: the result, and exactly that many bytes for argument 0
    serve_forward(p.Message(p.TYPES["FORWARD"], -1, 0, 1, p.FORWARD.pack(318, 0x1000, 10**9, 0, 0, 0, 0)))
    out_arg, payload = replies.pop()
    (result,) = p.FORWARD_RESULT.unpack_from(payload)
    assert out_arg == 0 and result == len(payload) - 8 == p.MAX_PAYLOAD - 8
