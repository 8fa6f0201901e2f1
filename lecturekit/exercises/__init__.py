"""The graded exercises: each is a pure function the student writes, checked on inputs.

An `Exercise` names the function the student defines, a reference implementation, and a maker of
test inputs from a seed. The same definition serves three uses:
- the visible self-check in the notebook (seed 0, `check(name, fn)`), which tells the student what
  is wrong (shape, dtype, values, a property) instead of a bare assert;
- the hidden tests of the nbgrader test cell (`check(name, fn, hidden=True)`: other seeds);
- the kit's grader, which sends inputs made from a secret seed into the student's kernel, gets the
  returned values back as arrays, and compares them with the reference outside that kernel.
Modules `nb01.py`... register the exercises of each notebook.
"""

from __future__ import annotations

import copy
import importlib
import math
import numbers
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from lecturekit.i18n import Message, _

Args = tuple[Any, ...]


class ExerciseNotDone(AssertionError):
    """The student's function still raises NotImplementedError."""


class WrongAnswer(AssertionError):
    """The student's function returned something wrong; the message says what."""


class Mistake(Message):
    """A compare message that names a typical mistake (a flipped sign, nats instead of bits, a missing
    `detach`) and holds none of the case's values, so the grader may show it for hidden cases too; any
    other message is reduced to its kind there ("the values are wrong"). Make it from a catalogued
    message with no fields, `Mistake(_("..."))`, so the feedback can be written in the student's language."""

    def __new__(cls, message: str) -> Mistake:
        if isinstance(message, Message):
            return super().__new__(cls, message.msgid, message.fields, message.lead)
        return super().__new__(cls, message)


class ReferenceUnavailable(RuntimeError):
    """Raised, in a grading kernel, by a kit function withheld there: the kit's own implementation of a
    graded exercise cannot be the answer (see lecturekit/grading/withheld.py)."""

    def __init__(self, name: str = "") -> None:
        super().__init__(
            _(
                "the kit's own implementation ({name}) cannot be the answer in graded work: write the function yourself"
            ).format(name=name)
        )


@dataclass
class Exercise:
    """One graded function. `cases(seed)` returns argument tuples; `compare(got, want, args)` returns
    None when right, else a message for the student. `stochastic` exercises get a torch.Generator
    seeded the same way for the student and the reference as their last argument. The grader
    withholds `reference` and `twins` from the student's kernel, so they must be named functions."""

    name: str
    function: str
    reference: Callable[..., Any]
    cases: Callable[[int], list[Args]]
    compare: Callable[[Any, Any, Args], str | None] | None = None
    hint: str = ""
    atol: float = 1e-5
    rtol: float = 1e-4
    extra: dict[str, Any] = field(default_factory=dict)
    twins: tuple[Callable[..., Any], ...] = ()  # other kit functions computing the same answer (withheld too)
    # positions of arguments whose state after the call is graded too (a training step changes its models in
    # place): the answer then is (returned value, state of each such argument), see `answer_of`
    after_call: tuple[int, ...] = ()
    # what the answer may call on its inputs, kept in a grading kernel's package copy (which withholds every
    # other kit function): fully qualified names, e.g. "lecturekit.models.tiny.TinyRNN.next_pixel_logits"
    kernel_needs: tuple[str, ...] = ()

    def verdict(self, got: Any, want: Any, args: Args) -> str | None:
        """None when `got` is right; else what is wrong. Where the reference holds numbers, anything but
        real numbers (text such as "nan", a bool, a complex number) is wrong, and so is a NaN or an infinity
        where the reference has none, whatever the exercise's own compare says: `float("nan")` parses, and
        NaN compares false with everything, so a tolerance test alone would let either through."""
        problem = non_numeric_problem(got, want) or non_finite_problem(got, want)
        if problem:
            return problem
        if self.compare is not None:
            return self.compare(got, want, args)
        return compare_values(got, want, atol=self.atol, rtol=self.rtol)


_REGISTRY: dict[str, Exercise] = {}
_LOADED = False


def _load_notebook_modules() -> None:
    """Import every nbNN module once, so their exercises are registered (whatever registered first)."""
    global _LOADED
    if not _LOADED:
        _LOADED = True
        for info in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{info.name}")


def register(exercise: Exercise) -> Exercise:
    _REGISTRY[exercise.name] = exercise
    return exercise


def get_exercise(name: str) -> Exercise:
    _load_notebook_modules()
    if name not in _REGISTRY:
        raise KeyError(f"no exercise called {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def all_exercises() -> dict[str, Exercise]:
    _load_notebook_modules()
    return dict(_REGISTRY)


def to_numpy(value: Any) -> Any:
    """Plain arrays for comparison and for sending across processes (tuples become tuples of arrays)."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, (list, tuple)):
        return tuple(to_numpy(v) for v in value)
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    if isinstance(value, (int, float, bool, np.number, np.bool_)):
        return np.asarray(value)
    return value


_NUMERIC_KINDS = frozenset("biufc")  # numpy dtype kinds of numbers (bool, signed, unsigned, float, complex)
_MAX_ITEMS_CHECKED = 200_000  # values of a list checked one by one where an array is due (the grader decodes fewer)


def _number_kind(value: Any) -> str:
    """The numpy dtype kind of a number, array or tensor ("b", "i", "u", "f", "c"); "" for anything else
    (text, bytes, None, an object), and the dtype's own kind for arrays of text, objects or dates."""
    if isinstance(value, torch.Tensor):
        if value.dtype == torch.bool:
            return "b"
        if value.is_complex():
            return "c"
        return "f" if value.is_floating_point() else "u" if value.dtype == torch.uint8 else "i"
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype.kind
    if isinstance(value, (str, bytes)):
        return ""
    if isinstance(value, bool):
        return "b"
    if isinstance(value, numbers.Integral):
        return "i"
    if isinstance(value, numbers.Real):
        return "f"
    if isinstance(value, numbers.Complex):
        return "c"
    return ""


def kind_name(value: Any) -> str:
    """What `value` is, for a message: its type (and dtype), never its contents."""
    module = type(value).__module__.split(".")[0]
    name = type(value).__name__ if module in ("builtins", "numpy", "torch") else "object"
    dtype = getattr(value, "dtype", None)
    return f"{name} of {dtype}" if isinstance(value, (np.ndarray, torch.Tensor)) else name


def non_numeric_problem(got: Any, want: Any) -> str | None:
    """A message when `got` holds something other than real numbers where `want` holds numbers: text (even
    "nan"), bytes, None, an object, an array of text or objects, a bool where the reference is no bool, a
    complex number where it is real. None when the kinds fit (the compare then judges the values). The
    message names only kinds, never values, so it is safe to show for hidden cases."""
    want = to_numpy(want)
    if isinstance(want, tuple):
        if not isinstance(got, (tuple, list)):
            return None  # the compare says that one value was expected to be several
        return next((p for g, w in zip(got, want) if (p := non_numeric_problem(g, w))), None)
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return None
        return next((p for k, w in want.items() if k in got and (p := non_numeric_problem(got[k], w))), None)
    want_kind = _number_kind(want)
    if want_kind not in _NUMERIC_KINDS:
        return None
    return _leaf_kind_problem(got, want_kind, [_MAX_ITEMS_CHECKED])


def _leaf_kind_problem(got: Any, want_kind: str, left: list[int]) -> Mistake | None:
    """`non_numeric_problem` for one number or array of the reference (`want_kind`, its dtype kind); a list
    in its place is checked value by value (the compare then says it should be an array)."""
    left[0] -= 1
    if left[0] < 0:
        return Mistake(_("expected a number, got {kind}").format(kind="a list too long to check"))
    if isinstance(got, (list, tuple)):
        return next((p for g in got if (p := _leaf_kind_problem(g, want_kind, left))), None)
    kind = _number_kind(got)
    if kind not in _NUMERIC_KINDS:
        return Mistake(_("expected a number, got {kind}").format(kind=kind_name(got)))
    if kind == "b" and want_kind != "b":
        if want_kind in "fc":
            return Mistake(_("expected floating-point values, got integers or booleans: compute in floats"))
        return Mistake(_("expected integers ({want}), got {got}").format(want="int", got=kind_name(got)))
    if kind == "c" and want_kind != "c":
        return Mistake(_("expected a number, got {kind}").format(kind=kind_name(got)))
    return None


def real_number(value: Any) -> float | None:
    """`value` as a float when it is one real number: a Python int or float (not a bool), a numpy number, or
    a one-element numeric array or tensor. None for anything else (text, a bool, a complex number, more
    than one value), so that `float("nan")`-style parsing never turns text into a number. NaN and infinities
    come back as they are: the caller checks `math.isfinite`."""
    if _number_kind(value) not in ("i", "u", "f"):
        return None
    if isinstance(value, torch.Tensor):
        return float(value.detach().reshape(()).cpu().double().item()) if value.numel() == 1 else None
    if isinstance(value, (np.ndarray, np.generic)):
        return float(np.asarray(value, dtype=np.float64).reshape(())) if value.size == 1 else None
    try:
        return float(value)
    except OverflowError:  # a huge int
        return math.copysign(math.inf, value)


def non_finite_problem(got: Any, want: Any) -> str | None:
    """A message when `got` holds a NaN or an infinity that `want` does not hold at the same place (None:
    no such value, or the same non-finite values as the reference, or shapes too different to tell)."""
    got, want = to_numpy(got), to_numpy(want)
    if isinstance(want, tuple):
        if not isinstance(got, tuple):
            return None
        return next((p for g, w in zip(got, want) if (p := non_finite_problem(g, w))), None)
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return None
        return next((p for k, w in want.items() if k in got and (p := non_finite_problem(got[k], w))), None)
    if isinstance(got, (float, int)) and not isinstance(got, bool):
        got = np.asarray(got)
    if not (isinstance(got, np.ndarray) and got.dtype.kind in "fc") or not isinstance(want, np.ndarray):
        return None
    bad = ~np.isfinite(got)
    if not bad.any():
        return None
    if want.shape == got.shape and want.dtype.kind in "fc":
        same = np.isnan(got) == np.isnan(want)
        same &= np.where(np.isinf(want), got == want, ~np.isinf(got))
        if same.all():
            return None
    return Mistake(_("your result contains NaN or inf where the expected result has a number"))


def compare_values(got: Any, want: Any, *, atol: float = 1e-5, rtol: float = 1e-4) -> str | None:
    """None when `got` matches `want` (arrays, tensors, numbers, tuples of them), else why not."""
    got, want = to_numpy(got), to_numpy(want)
    if isinstance(want, tuple):
        return _compare_tuples(got, want, atol=atol, rtol=rtol)
    if isinstance(want, dict):
        return _compare_dicts(got, want, atol=atol, rtol=rtol)
    if not isinstance(got, np.ndarray):
        return _("expected an array or tensor, got {kind} ({value})").format(
            kind=type(got).__name__, value=str(got)[:80]
        )
    if got.shape != want.shape:
        return _("expected shape {want}, got shape {got}").format(want=tuple(want.shape), got=tuple(got.shape))
    if want.dtype.kind in "iub":
        return _compare_integers(got, want)
    return _compare_floats(got, want, atol=atol, rtol=rtol)


def _compare_tuples(got: Any, want: tuple[Any, ...], *, atol: float, rtol: float) -> str | None:
    """Several return values: the first one that differs names the problem (and its position)."""
    if not isinstance(got, tuple) or len(got) != len(want):
        return _("expected a tuple of {n} values, got {kind}").format(n=len(want), kind=type(got).__name__)
    for i, (g, w) in enumerate(zip(got, want)):
        problem = compare_values(g, w, atol=atol, rtol=rtol)
        if problem:
            text = _("value {i} of the tuple: {problem}").format(i=i, problem=problem)
            return Mistake(text) if isinstance(problem, Mistake) else text
    return None


def _compare_dicts(got: Any, want: dict[str, Any], *, atol: float, rtol: float) -> str | None:
    """Named values (a model's parameters after a training step): the same names, each value right."""
    if not isinstance(got, dict) or set(got) != set(want):
        return _("expected values named {names}").format(names=", ".join(sorted(want))[:200])
    for name in sorted(want):
        problem = compare_values(got[name], want[name], atol=atol, rtol=rtol)
        if problem:
            text = _("{name}: {problem}").format(name=name, problem=problem)
            return Mistake(text) if isinstance(problem, Mistake) else text
    return None


def _compare_integers(got: np.ndarray, want: np.ndarray) -> str | None:
    """Indices, counts and flags must match exactly (and be integers: a float index is a mistake; booleans only
    where flags are due)."""
    if got.dtype.kind not in ("iub" if want.dtype.kind == "b" else "iu"):
        return _("expected integers ({want}), got {got}").format(want=want.dtype, got=got.dtype)
    wrong = int((got != want).sum())
    return (
        None
        if wrong == 0
        else _("{wrong} of {n} values differ from the expected ones").format(wrong=wrong, n=want.size)
    )


def _compare_floats(got: np.ndarray, want: np.ndarray, *, atol: float, rtol: float) -> str | None:
    """Real numbers match within a tolerance (the student's arithmetic may round differently)."""
    if got.dtype.kind in "iub":
        return Mistake(_("expected floating-point values, got integers or booleans: compute in floats"))
    if got.dtype.kind not in ("fc" if want.dtype.kind == "c" else "f"):  # text, objects, dates, complex
        return Mistake(_("expected a number, got {kind}").format(kind=kind_name(got)))
    got_f = got.astype(np.float64)
    want_f = want.astype(np.float64)
    problem = non_finite_problem(got_f, want_f)
    if problem:
        return problem
    if not np.allclose(got_f, want_f, atol=atol, rtol=rtol, equal_nan=True):
        err = float(np.max(np.abs(got_f - want_f)))
        return _("values differ from the expected ones (largest difference {err})").format(err=f"{err:.4g}")
    return None


def named_mistake(
    got: Any, known: Iterable[tuple[Callable[[], Any], str]], *, atol: float = 1e-5, rtol: float = 1e-4
) -> Mistake | None:
    """The first typical mistake whose answer `got` is: each of `known` is (a function computing what that
    mistake returns on the case, its N_-marked message). A compare calls this after the plain comparison
    failed, so a wrong answer is named ("you multiplied by the temperature") instead of "values differ".
    A candidate that cannot be computed on the case (it raises) is skipped."""
    for wrong, message in known:
        try:
            value = wrong()
        except Exception:  # noqa: BLE001, S112 - a mistake that does not apply to this case
            continue
        if non_finite_problem(got, value) is None and compare_values(got, value, atol=atol, rtol=rtol) is None:
            return Mistake(_(message))
    return None


def fresh_copy(value: Any) -> Any:
    """A copy of one argument as `_fresh` makes it (a generator in the same state, a deep-copied module)."""
    return _fresh((value,))[0]


def argument_state(value: Any) -> Any:
    """What is graded of an argument after the call: a module's parameters and buffers by name, a tensor's
    values (the same rule as the grader's kernel-side `_argument_state`)."""
    if isinstance(value, torch.nn.Module):
        return {name: t.detach().cpu().clone() for name, t in torch.nn.Module.state_dict(value).items()}
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().clone()
    return None


def answer_of(exercise: Exercise, fn: Callable[..., Any], args: Args) -> Any:
    """What `fn` answers on `args`: its returned value, and with `after_call` also the state of those arguments."""
    value = fn(*args)
    if not exercise.after_call:
        return value
    return (value, *(argument_state(args[i]) for i in exercise.after_call))


def run_cases(exercise: Exercise, fn: Callable[..., Any], seed: int) -> list[str]:
    """Problems found when calling `fn` on the cases of `seed` (empty list: all right)."""
    problems = []
    for i, args in enumerate(exercise.cases(seed)):
        want = answer_of(exercise, exercise.reference, _fresh(args))
        try:
            got = answer_of(exercise, fn, _fresh(args))
        except NotImplementedError:
            raise ExerciseNotDone(
                _("{function}() is not written yet: replace `raise NotImplementedError()` with your code.").format(
                    function=exercise.function
                )
            ) from None
        problem = exercise.verdict(got, want, args)
        if problem:
            problems.append(_("case {n}: {problem}").format(n=i + 1, problem=problem))
    return problems


def _fresh(args: Args) -> Args:
    """A copy of the arguments, so a function that changes its inputs cannot change the reference's."""
    out = []
    for a in args:
        if isinstance(a, torch.Generator):
            g = torch.Generator(device=a.device)
            g.set_state(a.get_state())
            out.append(g)
        elif isinstance(a, torch.Tensor):
            out.append(a.clone())
        elif isinstance(a, np.ndarray):
            out.append(a.copy())
        elif isinstance(a, torch.nn.Module):
            out.append(copy.deepcopy(a))
        else:
            out.append(a)
    return tuple(out)


def check(name: str, fn: Callable[..., Any], hidden: bool = False) -> None:
    """The self-check after an exercise: prints a short success line or raises with what is wrong."""
    exercise = get_exercise(name)
    seeds = [101, 202, 303] if hidden else [0]
    problems: list[str] = []
    for seed in seeds:
        problems += run_cases(exercise, fn, seed)
    if problems:
        hint = "\n" + _("Hint: {hint}").format(hint=_(exercise.hint)) if exercise.hint else ""
        raise WrongAnswer(
            _("{function}() is not right yet:").format(function=exercise.function)
            + "\n- "
            + "\n- ".join(problems[:5])
            + hint
        )
    if not hidden:
        print(_("✓ {function}() passed the check.").format(function=exercise.function))


def yours_or_reference(name: str, fn: Callable[..., Any] | None) -> Callable[..., Any]:
    """The student's function when it passes the visible check, else the kit's reference (with a note),
    so that the cells after an unfinished exercise still run and only its own check fails."""
    exercise = get_exercise(name)
    if fn is None:
        print(
            _("note: {function}() is not defined (run its cell), so the cells below use the kit's version.").format(
                function=exercise.function
            )
        )
        return exercise.reference
    try:
        problems = run_cases(exercise, fn, 0)
        why = _("does not pass its check yet")
    except ExerciseNotDone:
        problems, why = ["not written yet"], _("is not written yet")
    except Exception as exc:  # noqa: BLE001 - any error in the student's code means: use the reference
        problems, why = [f"{type(exc).__name__}: {exc}"], _("raises {error}").format(error=type(exc).__name__)
    if problems:
        print(
            _(
                "note: your {function}() {why} (the exercise is not finished yet), so the cells below use the "
                "kit's version of it."
            ).format(function=exercise.function, why=why)
        )
        return exercise.reference
    print(_("using your {function}()").format(function=exercise.function))
    return fn
