"""READ replies of up to MAX_READ bytes: the send buffer a channel needs for them, a
download's pieces gathered into one datagram (never joined), and the bounds on both."""
import socket

import pytest

from xax_emu import protocol as p
from xax_emu.limits import channel_for_replies
from xax_emu.monitor.channels import CLOSED, NOT_READY, StreamChannel


def read_request(n: int) -> p.Message:
    return p.decode_request(p.HEADER.pack(p.MAGIC, p.VERSION, p.TYPES["READ"], 3, n, 0, 7))


def test_a_channel_carries_the_largest_read_reply_it_announces():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with a, b:
        most = channel_for_replies(a)
        assert 0 < most <= p.MAX_READ
        b.setblocking(False)
        data = bytes(range(256)) * (most // 256) + b"x" * (most % 256)
        a.sendmsg(p.reply_parts(read_request(most), most, [data]))
        got = b.recv(p.HEADER_SIZE + most + 1)
        assert got[p.HEADER_SIZE:] == data


def test_a_send_buffer_set_for_boot_is_never_shrunk():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with a, b:
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        before = a.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        channel_for_replies(a)
        assert a.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) == before


def test_gathered_reply_is_the_joined_one():
    msg = read_request(10)
    parts = [b"abc", memoryview(b"defg")[1:], b""]
    assert b"".join(p.reply_parts(msg, 6, parts)) == p.reply(msg, 6, b"abcefg")


@pytest.mark.parametrize("parts", [[b"x" * (p.MAX_READ + 1)], [b"x"] * (p.MAX_REPLY_PARTS + 1)])
def test_gathered_reply_over_the_limits_is_refused(parts):
    with pytest.raises(ValueError, match="over the protocol limit"):
        p.reply_parts(read_request(1), 1, parts)


def filled(pieces, ok=None) -> StreamChannel:
    chan = StreamChannel(wake=lambda: None)
    for piece in pieces:
        assert chan.push(piece)
    if ok is not None:
        chan.finish(ok)
    return chan


def test_stream_reads_hand_pieces_on_whole_and_cut_the_last():
    a, b = b"a" * 10, b"b" * 20
    chan = filled([a, b, b"", b"c"])
    first = chan.read_parts(15)
    assert first[0] is a and bytes(first[1]) == b"b" * 5  # the first piece as it came
    assert b"".join(chan.read_parts(100)) == b"b" * 15 + b"c"
    assert chan.read_parts(100) == NOT_READY and chan.poll(p.POLLIN) == 0


def test_stream_read_takes_at_most_max_reply_parts_pieces():
    chan = filled([b"x"] * (p.MAX_REPLY_PARTS + 3), ok=True)
    assert len(chan.read_parts(1 << 20)) == p.MAX_REPLY_PARTS
    assert chan.read(1 << 20) == b"xxx"
    assert chan.read(1) == CLOSED and chan.poll(p.POLLIN) == p.POLLIN | p.POLLHUP


def test_a_stream_that_broke_off_polls_pollerr_once_read():
    chan = filled([b"half"], ok=False)
    assert chan.poll(p.POLLIN) == p.POLLIN  # what came before the failure is still read
    assert chan.read(100) == b"half"
    assert chan.read(100) == CLOSED and chan.poll(p.POLLIN) == p.POLLERR


def test_only_the_first_piece_into_an_empty_stream_wakes_the_loop():
    wakes = []
    chan = StreamChannel(wake=lambda: wakes.append(1))
    chan.push(b"a")
    chan.push(b"b")
    assert len(wakes) == 1
    chan.read(2)
    chan.push(b"c")
    chan.finish(True)
    assert len(wakes) == 3  # the piece into the emptied stream, and the end
