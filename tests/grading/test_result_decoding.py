"""Decoding what a kernel hands back costs the grader no more memory than the arrays it wrote (red team
finding #8): a tensor node may not ask for a dtype other than its array's own (a 1 MB uint8 member read as
complex128 is 16 MB), an .npz member serves one node only (24 nodes on one member were 24 copies), and every
array counts against one decoded-bytes budget per call."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from lecturekit.grading.execute import CallResult, DecodeBudget, Outcome, _decode, _read_results
from lecturekit.grading.kernel_code import _encode, _encode_array, _encode_plain

TOKEN = "t" * 32


def _write_results(folder: Path, value_node: dict, arrays: dict[str, np.ndarray]) -> tuple[Path, Path]:
    """The two files a kernel writes for one case whose value is `value_node`."""
    np.savez(folder / "out.npz", **arrays)
    report = {"token": TOKEN, "defined": True, "kind": "function", "cases": [{"value": value_node}]}
    (folder / "out.json").write_text(json.dumps(report))
    return folder / "out.json", folder / "out.npz"


def _read(folder: Path, value_node: dict, arrays: dict[str, np.ndarray]) -> CallResult:
    result = CallResult(Outcome("ok"))
    _read_results(result, *_write_results(folder, value_node, arrays), TOKEN, 1)
    return result


def test_a_member_referenced_twice_is_refused(tmp_path):
    node = {"t": "tensor", "k": "a0", "dtype": "torch.uint8"}
    result = _read(tmp_path, {"t": "list", "items": [node, node]}, {"a0": np.zeros(10, np.uint8)})
    assert result.problem and not result.values
    assert _read(tmp_path, {"t": "list", "items": [node]}, {"a0": np.zeros(10, np.uint8)}).problem == ""


@pytest.mark.parametrize("dtype", ["torch.complex128", "torch.float64", "torch.int64", "torch.float32"])
def test_a_tensor_is_never_converted_from_another_dtype(tmp_path, dtype):
    result = _read(tmp_path, {"t": "tensor", "k": "a0", "dtype": dtype}, {"a0": np.zeros(10, np.uint8)})
    assert result.problem and not result.values


def test_decoded_bytes_are_counted_against_one_budget():
    arrays = {f"a{i}": np.zeros(1000, np.float64) for i in range(3)}
    nodes = {"t": "list", "items": [{"t": "ndarray", "k": f"a{i}"} for i in range(3)]}
    assert len(_decode(nodes, arrays, DecodeBudget(bytes=3 * 8000))) == 3
    with pytest.raises(ValueError):
        _decode(nodes, arrays, DecodeBudget(bytes=3 * 8000 - 1))


def test_what_kernels_send_still_decodes_to_the_same_values():
    """Every tensor dtype the kernel's encoder sends (half precisions go as float32) comes back as it was."""
    values = [torch.arange(6, dtype=d).reshape(2, 3) for d in (torch.float32, torch.float64, torch.int64, torch.uint8)]
    values += [torch.tensor([1.5, -2.0], dtype=torch.float16), torch.tensor([0.5], dtype=torch.bfloat16)]
    values += [torch.tensor(2.25), torch.tensor(3, dtype=torch.int64), torch.tensor(0.5, dtype=torch.bfloat16)]
    values += [torch.tensor([True, False]), np.arange(4.0).reshape(2, 2).T, np.float32(2.5), (1, 2.5, None)]
    ctx = {"np": np, "torch": torch, "arrays": {}, "count": 0, "encode": _encode, "encode_array": _encode_array}
    ctx["encode_plain"] = _encode_plain
    node = _encode(values, ctx)
    decoded = _decode(node, dict(ctx["arrays"]))
    for got, want in zip(decoded, values):
        if isinstance(want, torch.Tensor):
            assert got.dtype == want.dtype and got.shape == want.shape and torch.equal(got, want)
        elif isinstance(want, np.ndarray):
            assert got.shape == want.shape and np.array_equal(got, want)
        else:
            assert got == want or got == list(want)


def test_amplifying_references_cost_the_grader_no_memory(tmp_path):
    """The attack as the red team made it: one 1 MB uint8 member, 24 complex128 tensor nodes on it (~400 MB of
    grader memory before the fix). Measured in a fresh process: its peak resident memory after reading the
    results, against its peak before, with a generous bound."""
    node = {"t": "tensor", "k": "a0", "dtype": "torch.complex128"}
    _write_results(tmp_path, {"t": "list", "items": [node] * 24}, {"a0": np.ones(2**20, np.uint8)})
    script = textwrap.dedent(
        f"""
        import resource, sys
        from pathlib import Path
        from lecturekit.grading.execute import CallResult, Outcome, _read_results
        folder = Path({str(tmp_path)!r})
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = CallResult(Outcome("ok"))
        _read_results(result, folder / "out.json", folder / "out.npz", {TOKEN!r}, 1)
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(f"{{grown:.0f}} {{bool(result.problem)}}")
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True)
    grown_mb, refused = out.stdout.split()
    assert refused == "True"
    assert float(grown_mb) < 64, f"the grader's memory grew by {grown_mb} MB"


def test_why_results_were_refused_reaches_the_review_not_the_student(tmp_path):
    """The kernel writes its result files after the hidden cases ran, so any text of theirs may hold the hidden
    inputs: numpy's error on an odd .npy header quotes the header (`descr is not a valid dtype descriptor:
    'v_3_1_4...'`). The student's feedback says the values could not be read back; the review says why."""
    from lecturekit.exercises import get_exercise
    from lecturekit.grading.compare import judge_exercise

    data = "v_" + "_".join(str(i) for i in range(40))
    header = repr({"descr": data, "fortran_order": False, "shape": (1,)}).encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    member = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(8)
    import zipfile

    json_path, npz_path = _write_results(tmp_path, {"t": "ndarray", "k": "a0"}, {})
    npz_path.unlink()
    with zipfile.ZipFile(npz_path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("a0.npy", member)
    result = CallResult(Outcome("ok"))
    _read_results(result, json_path, npz_path, TOKEN, 1)
    assert result.problem and data[:12] not in result.problem
    assert data[:12] in result.detail  # for the instructor's review
    exercise = get_exercise("nb03.shift")
    hidden = list(exercise.cases(5))
    feedback = "\n".join(judge_exercise(exercise, hidden, [], result).messages)
    assert "could not be read back" in feedback and data[:12] not in feedback


def test_an_error_of_the_call_itself_names_only_pythons_own_types():
    """The call's code raised in the kernel (a patched json.dump...) after the hidden cases ran: an exception
    class named after their inputs is a valid identifier, and is not shown."""
    from lecturekit.grading.execute import _call_problem

    data = "v_" + "_".join(str(i) for i in range(20))
    assert data not in _call_problem("f", data) and "Error in the notebook's kernel" in _call_problem("f", data)
    assert "(TypeError in the notebook's kernel)" in _call_problem("f", "TypeError")
