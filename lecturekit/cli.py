"""`python -m lecturekit ...` (also installed as `lecturekit`)."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

# name -> "module:function"; each function takes the remaining argv and returns an exit code.
TRAINERS = {
    "tiny": "lecturekit.models.tiny:train_main",
    "rgb": "lecturekit.models.rgb:train_main",
    "pixelrnn": "lecturekit.models.pixelrnn:train_main",
    "pixelrnn_above": "lecturekit.models.pixelrnn:train_above_main",
    "ae": "lecturekit.models.vae:train_ae_main",
    "vae": "lecturekit.models.vae:train_main",
    "gan": "lecturekit.models.gan:train_main",
    "sentence_vae": "lecturekit.models.sentence_vae:train_main",
}
# grading where large courses grade; each function takes the remaining argv and returns an exit code
# commands that parse their own options: the command's name -> its `main(argv)`
OWN_PARSERS = {
    "grade": "lecturekit.grading.cli:main",
    "grade-merge": "lecturekit.grading.merge:main",
    "gradescope": "lecturekit.grading.gradescope_build:main",
    "gradescope-run": "lecturekit.grading.gradescope_run:main",
    "site": "lecturekit.site.build:main",
    "course-data": "lecturekit.course_data:main",
    "fonts": "lecturekit.fonts:main",
}
GRADING_COMMANDS = ("grade", "grade-merge", "gradescope", "gradescope-run")


def _skip_unused_slow_imports() -> None:
    """Grading imports nbformat, whose jsonschema compiles rfc3987_syntax's grammars on import when that package is
    installed (jupyter's extras pull it in): about 4 s of CPU in every grading process (a shard, a Gradescope
    submission) for an `iri` format check nbformat never makes. jsonschema does without it when it is missing."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def _root(path: str | None) -> Path:
    if path:
        return Path(path)
    from lecturekit.paths import repo_root

    root = repo_root()
    if root is None:
        here = Path.cwd()
        if (here / "solutions").is_dir():
            return here
        raise SystemExit("no solutions/ folder found: run this in the kit's checkout or pass --root.")
    return root


def _student(args: argparse.Namespace) -> int:
    from lecturekit.notebooks import NotebookSourceError, sync_notebooks

    root = _root(args.root)
    stale: list[str] = []
    try:
        differences = sync_notebooks(root, check=args.check)
        if (root / "translations").is_dir():
            from lecturekit.translations import sync_editions

            more, stale = sync_editions(root, check=args.check)
            differences += more
    except (NotebookSourceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in differences:
        print(line)
    for line in stale:
        print(f"{'error' if args.check else 'warning'}: {line}", file=sys.stderr)
    if stale:
        print(
            f"{len(stale)} translation(s) missing or stale (such cells stay English in the Chinese editions "
            "meanwhile): `python -m lecturekit translations` shows each cell with its English text; messages go "
            "in lecturekit/locale/zh_CN/LC_MESSAGES/lecturekit.po.",
            file=sys.stderr,
        )
    if args.check and (differences or stale):
        print(
            "notebooks/ or the Chinese editions are out of sync with solutions/: run `python -m lecturekit student`.",
            file=sys.stderr,
        )
        return 1
    if args.check:
        print("notebooks/ and the Chinese editions are in sync with solutions/")
    return 0


def _translations(args: argparse.Namespace) -> int:
    from lecturekit.translations import accept, report_issues

    root = _root(args.root)
    if args.accept:
        for item in args.accept:
            notebook, _, cell = item.partition(":")
            try:
                print(accept(root, notebook, cell))
            except ValueError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
        return 0
    text = report_issues(root, notebook=args.notebook)
    print(text)
    return 0 if text.endswith("current translation") else 1


def _train(args: argparse.Namespace, rest: list[str]) -> int:
    target = TRAINERS.get(args.model)
    if target is None:
        print(f"unknown model {args.model!r}: choose one of {', '.join(TRAINERS)}", file=sys.stderr)
        return 2
    module, func = target.split(":")
    try:
        main = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError):
        print(f"training {args.model!r} is not available in this version of lecturekit.", file=sys.stderr)
        return 2
    return int(main(rest) or 0)


def _build_data(args: argparse.Namespace) -> int:
    from lecturekit.build_data import main

    return int(main() or 0)


def _sandbox_kernel(args: argparse.Namespace) -> int:
    from lecturekit.grading.bwrap import sandbox_problem
    from lecturekit.grading.sandbox_kernel import install

    where = install(args.name, user=args.user, prefix=args.prefix)
    print(
        f"installed the kernel spec {args.name!r} in {where}\n"
        f"grade with: nbgrader autograde ASSIGNMENT --ExecutePreprocessor.kernel_name={args.name} "
        "--KernelManager.transport=ipc"
    )
    problem = sandbox_problem()
    if problem:
        print(f"warning: {problem}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m lecturekit COMMAND ...`: run the command; return its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    if argv[:1] and argv[0] in OWN_PARSERS:
        if argv[0] in GRADING_COMMANDS:
            _skip_unused_slow_imports()
        module, func = OWN_PARSERS[argv[0]].split(":")
        return int(getattr(importlib.import_module(module), func)(argv[1:]) or 0)
    args, rest = parser.parse_known_args(argv)
    if args.command == "train":
        return _train(args, rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "student":
        return _student(args)
    if args.command == "sandbox-kernel":
        return _sandbox_kernel(args)
    if args.command == "translations":
        return _translations(args)
    return _build_data(args)


def _parser() -> argparse.ArgumentParser:
    """Every command and its options (grade, train and course-data pass theirs on to their own parsers)."""
    parser = argparse.ArgumentParser(prog="lecturekit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_notebook_commands(sub)
    p = sub.add_parser(
        "train", help="train a model: " + ", ".join(TRAINERS) + " (MODEL --help for options)", add_help=False
    )
    p.add_argument("model")
    sub.add_parser("build-data", help="regenerate the kit's sprites and corpus in data/")
    sub.add_parser("grade", help="grade students' notebooks (grade --help for options)", add_help=False)
    sub.add_parser("grade-merge", help="join the outputs of `grade --shard K/N` (grade-merge --help)", add_help=False)
    sub.add_parser(
        "gradescope", help="write a Gradescope autograder for one notebook (gradescope --help)", add_help=False
    )
    sub.add_parser("gradescope-run", help="grade one Gradescope submission (run_autograder calls it)", add_help=False)
    p = sub.add_parser(
        "sandbox-kernel", help="install a Jupyter kernel that runs in the grading sandbox (for nbgrader)"
    )
    p.add_argument("action", choices=["install"])
    p.add_argument("--name", default="lecturekit-sandbox", help="the kernel's name (default lecturekit-sandbox)")
    p.add_argument("--user", action="store_true", help="install for this user (default: into this Python environment)")
    p.add_argument("--prefix", default=None, help="install under this prefix (PREFIX/share/jupyter/kernels)")
    sub.add_parser(
        "site",
        add_help=False,
        help="build the course website: the executed notebooks in three languages, with live figures "
        "(site --help for options)",
    )
    sub.add_parser(
        "fonts",
        add_help=False,
        help="cut the CJK font subsets the Chinese plots use from Noto Sans CJK (fonts --help; development only)",
    )
    sub.add_parser(
        "course-data",
        add_help=False,
        help="make a course's own sprites a data set (LECTUREKIT_DATA=NAME) and train its models "
        "(course-data --help for options)",
    )
    return parser


def _add_notebook_commands(sub: Any) -> None:
    """The `student` and `translations` commands (the notebooks and their Chinese editions), first in --help."""
    p = sub.add_parser("student", help="regenerate notebooks/ from solutions/ (--check: only compare)")
    p.add_argument("--check", action="store_true", help="exit 1 when notebooks/ differs from solutions/")
    p.add_argument("--root", help="the kit's checkout (default: this one)")
    p = sub.add_parser(
        "translations",
        help="list the cells whose Chinese translation is missing or stale, "
        "with their English text (--accept NB:CELL: mark a reviewed translation current)",
    )
    p.add_argument("--notebook", help="only this notebook (part of its name, e.g. 03)")
    p.add_argument(
        "--accept",
        action="append",
        default=[],
        metavar="NOTEBOOK:CELL",
        help="stamp the translation of CELL with the current English hash (after you checked it fits)",
    )
    p.add_argument("--root", help="the kit's checkout (default: this one)")
