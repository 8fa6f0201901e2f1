"""Command-line options made from a model family's settings dataclass: one `--field-name` per field, its default
the dataclass's, so a recipe's value is written once (in the dataclass) and `train MODEL --help` lists it.

A field's help text is its `field(metadata={"help": ...})`; fields a command does not take are skipped."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import fields, replace
from typing import Any, TypeVar

Config = TypeVar("Config")
_TYPES = {"int": int, "float": float, "str": str}


def _value_type(annotation: str, default: Any) -> type:
    """The type an option's text is read as: the default's, else the first of the annotation ("int | None")."""
    if default is not None:
        return type(default)
    return _TYPES[str(annotation).split("|")[0].strip()]


def add_config_options(
    parser: argparse.ArgumentParser, config: Any, *, skip: Iterable[str] = (), helps: dict[str, str] | None = None
) -> None:
    """One option per field of the dataclass instance `config`, defaulting to its value (a bool field gets
    `--name/--no-name`, a tuple one option of that many values); `helps` adds or replaces help texts."""
    helps = helps or {}
    for f in fields(config):
        if f.name in skip:
            continue
        default = getattr(config, f.name)
        flag = "--" + f.name.replace("_", "-")
        text = " ".join(filter(None, (helps.get(f.name, f.metadata.get("help")), "(default: %(default)s)")))
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default, help=text)
        elif isinstance(default, tuple):
            parser.add_argument(flag, type=type(default[0]), nargs=len(default), default=default, help=text)
        else:
            parser.add_argument(flag, type=_value_type(f.type, default), default=default, help=text)


def config_from_args(config: Config, args: argparse.Namespace) -> Config:
    """`config` with the fields the command line set (those `add_config_options` added)."""
    given = vars(args)
    return replace(config, **{f.name: given[f.name] for f in fields(config) if f.name in given})  # type: ignore[type-var]
