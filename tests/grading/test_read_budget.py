"""The grader's own time reading what a copy's kernels send is bounded (the red team's residual weakness (c)):
every message a kernel sends is decoded by the grader (its JSON parsed, whichever request it answers), and a
hostile kernel can send message after message whose JSON costs a second or more each to parse, within its own
limits. Each copy gets a budget of the grader's CPU time for reading its messages and result files; a copy that
spends it is stopped and listed for review, and the other copies go on."""

from __future__ import annotations

import pytest

from lecturekit.grading.execute import KernelSession, ReadBudget, WorkFolders

pytestmark = pytest.mark.slow

# messages of ~6 MB of JSON lists each (a few ms to sign, ~0.2 s to parse), sent as fast as the kernel can, for 90 s
# (on a loaded machine the kernel sends far fewer: the budget in the test is small)
FLOOD = """
import json, time
_k = get_ipython().kernel
_s = _k.session
_content = json.dumps({"name": "stdout", "text": "", "junk": [[]] * 1_500_000}).encode()
_parent = json.dumps(_k.get_parent("shell").get("header", {}), default=str).encode()
_end = time.monotonic() + 90
while time.monotonic() < _end:
    _parts = [json.dumps(_s.msg_header("stream"), default=str).encode(), _parent, b"{}", _content]
    _k.iopub_socket.send_multipart([b"stream", b"<IDS|MSG>", _s.sign(_parts), *_parts])
"""


def test_a_copy_that_makes_the_grader_parse_too_long_is_stopped(tmp_path):
    reading = ReadBudget(seconds=0.3)
    s = KernelSession(WorkFolders(tmp_path, {}), reading=reading)
    s.start()
    try:
        honest = s.run("x = 6 * 7\nprint(x)", 60)
        assert honest.status == "ok" and honest.output == "42\n" and not reading.over()
        out = s.run(FLOOD, 150)
        assert out.status == "dead", out
        assert reading.over() and "reading what its kernel sent" in out.evalue, out
        assert out.seconds < 80, out.seconds  # stopped once the budget was spent, not after the flood
        assert s.violation == out.evalue
        again = s.run("print('hi')", 60)  # nothing more of this copy is read
        assert again.status == "dead" and again.evalue == out.evalue
    finally:
        s.close()


def test_the_budget_counts_cpu_time_of_the_calling_thread():
    reading = ReadBudget(seconds=0.2)
    with reading.counting():
        sum(range(3_000_000))
    with reading.counting():
        import time

        time.sleep(0.3)  # waiting is not reading
    assert 0 < reading.spent < 0.3 + 0.2
    assert reading.over() == (reading.spent > 0.2)
