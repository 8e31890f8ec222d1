"""The command line documents and checks its own keys: every ``--set`` key (a
:class:`~causalmix.finetuning.FinetuneConfig` field) and every ``--gen`` key (a generator's keyword
parameter) with its type, default and meaning, read from the dataclass and the signatures, never typed
by hand; values type-checked with the key named; generator parameters checked when a sweep is planned.

>>> "max_steps" in finetune_keys_help() and "n_dags" in generator_keys_help()
True
>>> check_finetune({"synthetic_ratio": "two"})
Traceback (most recent call last):
...
ValueError: finetune.synthetic_ratio: expected float, got 'two' (str).
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from collections.abc import Mapping
from typing import Any

from causalmix.finetune_config import FinetuneConfig
from causalmix.generators import GENERATORS
from causalmix.runs import METHODS
from causalmix.sweep_config import check_generator_params

__all__ = ["check_finetune", "check_generator", "finetune_keys_help", "generator_keys",
           "generator_keys_help", "settings_line"]


def _arg_docs(doc: str | None) -> dict[str, str]:
    """``name -> first sentence`` from a Google-style ``Args:`` section (continuation lines joined)."""
    out: dict[str, str] = {}
    m = re.search(r"^\s*(Args|Parameters)[^\n:]*:\s*$", doc or "", flags=re.M)
    if not m:
        return out
    current = None
    for line in doc[m.end():].splitlines():
        m = re.match(r"^\s{4,8}([A-Za-z_][A-Za-z0-9_, ]*):\s*(.*)$", line)
        if m and not line.startswith(" " * 12):
            current = [n.strip() for n in m.group(1).split(",")]
            for n in current:
                out[n] = m.group(2).strip()
        elif current and line.strip():
            for n in current:
                out[n] += " " + line.strip()
        elif not line.strip() and current:
            current = None
    return {k: re.split(r"(?<!e\.g)(?<!i\.e)\.\s+(?=[A-Z])", v.replace("``", ""), maxsplit=1)[0].rstrip(". ") + "."
            for k, v in out.items()}


def _type_name(annotation: Any) -> str:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    return text.replace("typing.", "").replace("NoneType", "None")


def finetune_fields() -> list[tuple[str, str, Any, str]]:
    """``(key, type, default, meaning)`` of every :class:`FinetuneConfig` field."""
    docs = _arg_docs(FinetuneConfig.__doc__)
    return [(f.name, _type_name(f.type), f.default, docs.get(f.name, "")) for f in dataclasses.fields(FinetuneConfig)]


def generator_keys() -> dict[str, list[tuple[str, str, Any, str]]]:
    """method -> ``(key, type, default, meaning)`` of its generator's keyword parameters (from the
    class's ``__init__`` signature; meanings from its ``Args:`` section where it has one)."""
    out = {}
    for method, name in METHODS.items():
        if name is None or name not in GENERATORS:
            continue
        factory = GENERATORS[name]
        if isinstance(factory, str):
            import importlib

            module, cls = factory.split(":")
            try:
                factory = getattr(importlib.import_module(module), cls)
            except ImportError:
                continue
        docs = {**_arg_docs(factory.__doc__), **_arg_docs(factory.__init__.__doc__)}
        params = []
        for p in inspect.signature(factory.__init__).parameters.values():
            if p.name == "self" or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
                continue
            params.append((p.name, _type_name(p.annotation) if p.annotation is not p.empty else "",
                           p.default if p.default is not p.empty else None, docs.get(p.name, "")))
        out[method] = params
    return out


def _rows(rows, width: int = 100) -> str:
    import textwrap

    lines = []
    for key, typ, default, meaning in rows:
        head = f"  {key} ({typ}, default {default!r})"
        lines.append(head + (": " + meaning if meaning else ""))
        if len(lines[-1]) > width:
            lines[-1:] = textwrap.wrap(lines[-1], width, subsequent_indent="      ")
    return "\n".join(lines)


def finetune_keys_help() -> str:
    """The ``--set`` keys, one a line (for ``--help``)."""
    return "--set KEY=VALUE keys (FinetuneConfig):\n" + _rows(finetune_fields())


def generator_keys_help() -> str:
    """The ``--gen`` keys per method, one a line (for ``--help``)."""
    parts = ["--gen KEY=VALUE keys (the method's generator):"]
    for method, rows in generator_keys().items():
        parts.append(f" {method}:" + ("" if rows else " (none)"))
        if rows:
            parts.append(_rows(rows))
    return "\n".join(parts)


# --- checks -------------------------------------------------------------------------------------


def _matches(value: Any, annotation: Any) -> bool:
    """Whether ``value`` fits a (string) annotation such as ``int``, ``float | None``, ``Literal[...]``."""
    text = annotation if isinstance(annotation, str) else _type_name(annotation)
    options = [t.strip() for t in re.split(r"\|(?![^\[]*\])", text)]
    for option in options:
        if option == "None" and value is None:
            return True
        if option == "bool" and isinstance(value, bool):
            return True
        if option == "int" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if option == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if option == "str" and isinstance(value, str):
            return True
        if option.startswith("Literal["):
            allowed = [a.strip().strip("'\"") for a in option[len("Literal["):-1].split(",")]
            if str(value) in allowed and isinstance(value, str):
                return True
        if option not in ("None", "bool", "int", "float", "str") and not option.startswith("Literal["):
            return True  # an alias or a container type: the generator's own checks apply
    return False


def check_finetune(settings: Mapping[str, Any]) -> None:
    """Type-check fine-tuning settings, naming the key (``ValueError``); unknown keys list the valid ones."""
    fields = {name: typ for name, typ, _, _ in finetune_fields()}
    for key, value in settings.items():
        if key not in fields:
            raise ValueError(f"finetune.{key}: unknown key; valid: {', '.join(fields)}.")
        if not _matches(value, fields[key]):
            raise ValueError(f"finetune.{key}: expected {fields[key]}, got {value!r} ({type(value).__name__}).")


def check_generator(method: str, params: Mapping[str, Any]) -> None:
    """Check a method's generator parameters (``ValueError`` naming the key; see
    :func:`causalmix.sweep_config.check_generator_params`)."""
    check_generator_params(method, params, f"generators.{method}")



def settings_line(record) -> str:
    """The settings a run used, one line (for ``causalmix run``'s text output)."""
    spec = record.spec if isinstance(record.spec, Mapping) else {}
    ft = FinetuneConfig.from_dict(dict(spec.get("finetune") or {}))
    gen = spec.get("generator") or {}
    parts = [f"dataset {spec.get('dataset')}", f"method {spec.get('method')}", f"n_train {spec.get('n_train')}",
             f"n_val {record.n_val}", f"seed {spec.get('seed')}", f"test rows {record.n_test} (cap {spec.get('test_cap')})",
             f"max_steps {ft.max_steps}", f"eval_every {ft.eval_every}", f"patience {ft.patience}",
             f"synthetic_ratio {ft.synthetic_ratio}"]
    if gen:
        parts.append("generator " + ", ".join(f"{k}={v}" for k, v in gen.items()))
    return "settings: " + "; ".join(parts)


assert typing  # (annotations are read as strings: ``from __future__ import annotations`` in the dataclasses)
