"""A griffe extension: read kerasish's docstrings as the API pages should show them.

kerasish's docstrings are Google style with three habits griffe does not read as meant:

- an ``Example:`` section of doctests, which griffe takes (singular) for a generic admonition
  whose ``>>>`` lines Markdown would show as nested quotes: renamed ``Examples:``, which
  griffe renders as Python code with the doctest flags trimmed;
- ``a, b: description`` in ``Args:`` (or ``Attributes:``) for arguments that share a description (the names may
  wrap onto a second line): split into one entry per name, each with the description;
- the odd Sphinx role (``:class:`Application```), which Markdown lacks: inline code;
- functions made at import time (``VGG16 = _builder(...)``), which static analysis sees as
  undocumented attributes: documented from the imported module, with their signature.

mkdocstrings runs this before rendering; the source docstrings are not changed.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import griffe

_EXAMPLE = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)
_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):`~?([^`]+)`")
_ARGS = re.compile(r"^(\s*)(Args|Arguments|Parameters|Keyword Args|Attributes):\s*$")
_NAME = r"\**[A-Za-z_]\w*"
_GROUP = re.compile(rf"^(\s+)({_NAME}(?:\s*,\s*{_NAME})+)\s*:\s*(.*)$")
_OPEN_GROUP = re.compile(rf"^(\s+)({_NAME}(?:\s*,\s*{_NAME})*)\s*,\s*$")


def rewrite(text: str) -> str:
    """The docstring ``text`` with ``Examples:`` sections, split groups and no roles."""
    text = _EXAMPLE.sub(r"\1Examples:", text)
    text = _ROLE.sub(lambda m: f"`{m.group(1)}`", text)
    return "\n".join(_split_groups(text.split("\n")))


def _split_groups(lines: list[str]) -> list[str]:
    out: list[str] = []
    i, section = 0, None  # section: the Args header's indentation while inside it
    while i < len(lines):
        line = lines[i]
        header = _ARGS.match(line)
        if header:
            section, i = len(header.group(1)), i + 1
            out.append(line)
            continue
        indent = _indent(line)
        if section is not None and line.strip() and indent <= section:
            section = None
        entry = section is not None and indent == section + 4  # an argument's first line
        opened = _OPEN_GROUP.match(line) if entry else None
        if opened and i + 1 < len(lines) and _indent(lines[i + 1]) == indent:
            line = line.rstrip() + " " + lines[i + 1].strip()  # names wrapped onto two lines
            i += 1
        group = _GROUP.match(line) if entry else None
        if group is None:
            out.append(line)
            i += 1
            continue
        body, i = _continuation(lines, i + 1, indent)
        for name in re.split(r"\s*,\s*", group.group(2)):
            out += [f"{group.group(1)}{name}: {group.group(3)}", *body]
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip()) if line.strip() else -1


def _continuation(lines: list[str], i: int, indent: int) -> tuple[list[str], int]:
    """The lines after an entry that are indented deeper than it, and the next index."""
    body = []
    while i < len(lines) and _indent(lines[i]) > indent:
        body.append(lines[i])
        i += 1
    return body, i


def _function(name: str, runtime: Any, like: griffe.Docstring | None) -> griffe.Function:
    """A griffe Function with ``runtime``'s signature and docstring, parsed as ``like``."""
    sig = inspect.signature(runtime)
    params = [
        griffe.Parameter(
            p.name,
            annotation=None if p.annotation is p.empty else str(p.annotation),
            kind=griffe.ParameterKind(p.kind.description),
            default=None if p.default is p.empty else repr(p.default),
        )
        for p in sig.parameters.values()
    ]
    returns = None if sig.return_annotation is sig.empty else str(sig.return_annotation)
    func = griffe.Function(name, parameters=griffe.Parameters(*params), returns=returns)
    func.docstring = griffe.Docstring(
        inspect.cleandoc(runtime.__doc__),
        parent=func,
        parser=like.parser if like else None,
        parser_options=like.parser_options if like else None,
    )
    return func


class KerasishDocstrings(griffe.Extension):
    """Document import-time functions; rewrite every docstring once the tree is complete."""

    def on_module_members(self, *, mod: griffe.Module, **kwargs: Any) -> None:
        made = [
            name
            for name, member in mod.members.items()
            if not member.is_alias and member.is_attribute and member.docstring is None
            and isinstance(member.value, griffe.ExprCall)
        ]  # fmt: skip
        if not made:
            return
        runtime = importlib.import_module(mod.path)
        for name in made:
            obj = getattr(runtime, name, None)
            if inspect.isfunction(obj) and obj.__doc__:
                mod.set_member(name, _function(name, obj, mod.docstring))

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value)
