"""The grader's zmq sockets reach a kernel only through the message gate (red team finding #7): zmq bounds
a frame (MAXMSGSIZE), not a message, and holds every frame of a message until its last, so one iopub message
of 20 frames of 30 MB took ~620 MB of the grader's memory. The gate reads the kernel's ZMTP frames: a message
of more than MAX_MESSAGE_FRAMES parts stops the kernel (and says why), a message over its channel's byte cap
only cuts the connection, and honest traffic passes unchanged."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from lecturekit.grading.execute import MAX_MESSAGE_FRAMES
from lecturekit.grading.message_gate import FrameCounter, Refused

GREETING = b"\xff" + bytes(8) + b"\x7f" + b"\x03\x01" + b"NULL".ljust(20, b"\x00") + b"\x00" + bytes(31)
READY = b"\x04\x19\x05READY\x0bSocket-Type\x00\x00\x00\x03PUB"


def _frame(body: bytes, more: bool) -> bytes:
    flags = (1 if more else 0) | (2 if len(body) > 255 else 0)
    size = len(body).to_bytes(8 if len(body) > 255 else 1, "big")
    return bytes([flags]) + size + body


def _message(*parts: bytes) -> bytes:
    return b"".join(_frame(p, i < len(parts) - 1) for i, p in enumerate(parts))


def _feed(data: bytes, step: int, max_frames: int = 16, max_bytes: int = 2**20) -> Refused | None:
    counter = FrameCounter(max_frames, max_bytes)
    try:
        for i in range(0, len(data), step):
            counter.feed(data[i : i + step])
    except Refused as exc:
        return exc
    return None


JUPYTER = _message(b"kernel.stream", b"<IDS|MSG>", b"0" * 64, b"{}", b"{}", b"{}", b'{"text": "hi"}')


@pytest.mark.parametrize("step", [1, 7, 4096])
def test_jupyter_messages_pass_however_the_bytes_arrive(step):
    assert _feed(GREETING + READY + JUPYTER * 50 + _message(b"x" * 300_000), step) is None


@pytest.mark.parametrize("step", [1, 4096])
def test_a_message_of_too_many_parts_is_refused(step):
    refused = _feed(GREETING + READY + JUPYTER + _message(*[b"b"] * 17), step)
    assert refused is not None and not refused.cut and "16 parts" in str(refused)


def test_a_message_over_the_byte_cap_only_cuts_the_connection():
    refused = _feed(GREETING + READY + _message(b"a" * 600_000, b"b" * 600_000), 4096)
    assert refused is not None and refused.cut
    huge_size = bytes([0x02]) + (2**62).to_bytes(8, "big")  # announced, never sent
    assert _feed(GREETING + huge_size, 4096).cut  # type: ignore[union-attr]


def test_what_is_not_zmtp_3_is_refused():
    assert _feed(b"GET / HTTP/1.1\r\n" + bytes(100), 4096) is not None
    assert _feed(GREETING[:10] + b"\x02" + GREETING[11:], 4096) is not None  # ZMTP 2
    assert _feed(GREETING + b"\x80\x01x", 4096) is not None  # reserved flag bits


@pytest.mark.slow
def test_a_kernel_cannot_grow_the_graders_memory_with_one_message(tmp_path):
    """The red team's attack on a real kernel (no sandbox, which changes nothing here): 20 frames of 30 MB in
    one iopub message, then 100 small frames; measured in a fresh process (peak resident memory before and
    after the attack, bound generous), with honest output and expressions passing through the gate first."""
    script = textwrap.dedent(
        f"""
        import resource
        from pathlib import Path
        from lecturekit.grading.execute import KernelSession, WorkFolders
        bomb = '''
        _k = get_ipython().kernel
        _big = b"x" * (SIZE)
        _k.session.send(_k.iopub_socket, "stream", content={{"name": "stdout", "text": "hi"}},
                        parent=_k.get_parent("shell"), buffers=[_big] * N, track=True)
        import time; time.sleep(3)
        '''
        s = KernelSession(WorkFolders(Path({str(tmp_path)!r}), {{}}))
        s.start()
        try:
            out = s.run("print('hello'); x = 6 * 7", 60, {{"x": "x"}})
            assert out.status == "ok" and out.output == "hello\\n", out
            assert out.expressions["x"]["data"]["text/plain"] == "42", out.expressions
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            big = s.run(bomb.replace("SIZE", "30 * 2**20").replace("N,", "20,"), 60)
            grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
            small = s.run(bomb.replace("SIZE", "10").replace("N,", "100,"), 60)
            print(big.status, round(grown), small.status, repr(small.evalue))
        finally:
            s.close()
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    big_status, grown_mb, small_status, why = out.stdout.strip().split(" ", 3)
    assert int(grown_mb) < 150, f"the grader's memory grew by {grown_mb} MB"
    assert small_status == "dead" and f"more than {MAX_MESSAGE_FRAMES} parts" in why


@pytest.mark.slow
def test_a_message_over_the_byte_cap_is_listed_for_review(tmp_path):
    """A message over a channel's cap is dropped (the connection cut, zmq reconnects): the grader then never sees
    that output or reply, so the copy is listed for the instructor's review with the reason, not dropped silently."""
    from lecturekit.grading.execute import CHANNEL_LIMITS, KernelSession, WorkFolders

    cap_mb = CHANNEL_LIMITS["iopub"][0] >> 20
    s = KernelSession(WorkFolders(tmp_path, {}))
    s.start()
    try:
        out = s.run("print('x' * (9 * 2**20), flush=True); x = 6 * 7", 60, {"x": "x"})
        assert out.status == "ok" and out.expressions["x"]["data"]["text/plain"] == "42", out
        assert "x" * 1000 not in out.output
        dropped = s.take_dropped()
        assert dropped and f"more than {cap_mb} MB" in dropped[0] and "dropped" in dropped[0], dropped
        assert s.take_dropped() == []  # each drop reported once
        assert s.run("print('hi')", 60).output == "hi\n" and s.take_dropped() == []
    finally:
        s.close()
