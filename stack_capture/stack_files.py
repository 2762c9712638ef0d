"""Stack files (`Pulumi.<stack>.yaml`): where they are, their `config:` block, and where each key is written.

A stack is named (`dev`: `Pulumi.dev.yaml` in the project directory) or given as a file path
(`tests/stacks/Pulumi.dev.yaml`). The project directory is the `--project-dir` of a command, else
`$ASYNC_PIPELINES_PROJECT_DIR`, else this project. It holds the stack files; when it also holds a
`__main__.py` that program is run, otherwise this project's.

Reading is strict where PyYAML is lenient: a syntax error or a duplicate key is a `StackFileError`
naming `file:LINE:COL`, and `locate` prefixes config errors (`pipelines.orders.patern: ...`) with the
line of the key they name, so every message points into the file the user edits.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.config_errors import did_you_mean, unknown_key_message
from components.defaults import PROJECT

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR_VARIABLE = "ASYNC_PIPELINES_PROJECT_DIR"
"""Where stack names are looked up when no `--project-dir` is given (the tests point it at tests/stacks)."""
STACK_FILE_KEYS = ("config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt")
"""The top-level keys of a Pulumi stack file."""
STACK_FILE_RE = re.compile(r"^Pulumi\.(?P<name>[^/\\]+)\.ya?ml$")
_PATH_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")

Position = tuple[int, int]
"""(line, column), both 1-based, as editors and compilers print them."""


class UnknownStackError(LookupError):
    """No such stack file; the message lists the stacks there are."""


class StackFileError(ValueError):
    """A stack file that is not valid YAML, or has a duplicate key: one `file:LINE:COL: what` per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class StackFile:
    """One `Pulumi.<name>.yaml`, read: its `config:` block and the position of every key in it."""

    name: str
    path: Path
    config: dict[str, Any] = field(default_factory=dict)
    positions: dict[tuple[str | int, ...], Position] = field(default_factory=dict)
    """Config key path (`("pipelines", "orders", "subscribers")`, namespace dropped) -> the key's position."""

    @property
    def display(self) -> str:
        return display_path(self.path)


def display_path(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def project_dir(explicit: Path | str | None = None) -> Path:
    """`explicit`, else `$ASYNC_PIPELINES_PROJECT_DIR`, else this project."""
    return Path(explicit or os.environ.get(PROJECT_DIR_VARIABLE) or PROJECT_DIR)


def program_dir(directory: Path | str | None = None) -> Path:
    """The directory whose `__main__.py` builds the stack: the project dir's own, else this project's."""
    found = project_dir(directory)
    return found if (found / "__main__.py").is_file() else PROJECT_DIR


def stack_names(directory: Path | str | None = None) -> list[str]:
    return sorted(m["name"] for p in project_dir(directory).glob("Pulumi.*.y*ml") if (m := STACK_FILE_RE.match(p.name)))


def is_stack_path(stack: str) -> bool:
    """A file path (`tests/stacks/Pulumi.dev.yaml`) rather than a stack name (`dev`)."""
    return stack.endswith((".yaml", ".yml")) or "/" in stack or os.sep in stack


def find_stack(stack: str, directory: Path | str | None = None) -> Path:
    """The file of `stack` (a name in the project dir, or a path); UnknownStackError names the choices."""
    if is_stack_path(stack):
        path = Path(stack)
        if not STACK_FILE_RE.match(path.name):
            raise UnknownStackError(f"{stack}: a stack file is named Pulumi.<stack>.yaml")
        if not path.is_file():
            raise UnknownStackError(f"no stack file {stack}")
        return path
    where = project_dir(directory)
    path = where / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(stack_names(where)) or "none"
        raise UnknownStackError(f"unknown stack {stack!r}: no {display_path(path)} (stacks: {known})")
    return path


def read_stack(stack: str, directory: Path | str | None = None) -> StackFile:
    """Find and read a stack file; raises UnknownStackError or StackFileError."""
    path = find_stack(stack, directory)
    match = STACK_FILE_RE.match(path.name)
    name = match["name"] if match else stack
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StackFileError([f"{display_path(path)}: cannot read ({exc})"]) from None
    return parse_stack_text(text, name, path)


def load_stack_config(stack: str, directory: Path | str | None = None) -> dict[str, Any]:
    """The `config:` block of a stack file, keys as written (`async-pipelines:pipelines`)."""
    return read_stack(stack, directory).config


def namespace_problems(values: Mapping[str, Any]) -> list[str]:
    """Config keys the program would never see: no `namespace:` at all, or a misspelled `async-pipelines:`."""
    problems = []
    for key in values:
        namespace, sep, name = str(key).partition(":")
        if not sep:
            problems.append(f"{key}: a stack file's config key needs its namespace: {PROJECT}:{key}")
        elif namespace != PROJECT and did_you_mean(namespace, [PROJECT]):
            problems.append(f"{key}: unknown namespace {namespace!r}; did you mean {PROJECT}:{name}?")
    return problems


def namespace_config(values: Mapping[str, Any]) -> dict[str, Any]:
    """The project's own keys (`async-pipelines:pipelines` -> `pipelines`): what the config model parses."""
    prefix = f"{PROJECT}:"
    return {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)}


# --- strict YAML ------------------------------------------------------------------------------------


def _where(display: str, mark: Any) -> str:
    return f"{display}:{mark.line + 1}:{mark.column + 1}"


def parse_stack_text(text: str, name: str, path: Path) -> StackFile:
    """`text` of `path` as a StackFile; syntax errors and duplicate keys raise StackFileError."""
    display = display_path(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        duplicates = [text for _, text in sorted(_duplicate_keys(root, display))] if root is not None else []
        if duplicates:
            raise StackFileError(duplicates)
        document = yaml.SafeLoader("").construct_document(root) if root is not None else {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        context = ""
        if exc.context and exc.problem:
            started = exc.context_mark
            moved = started is not None and (mark is None or started.line != mark.line)
            at = f" at line {started.line + 1}" if started is not None and moved else ""
            context = f" ({' '.join(exc.context.split())}{at})"
        raise StackFileError([f"{_where(display, mark) if mark else display}: {what}{context}"]) from None
    except yaml.YAMLError as exc:
        raise StackFileError([f"{display}: {' '.join(str(exc).split())}"]) from None
    if not isinstance(document, Mapping):
        raise StackFileError([f"{display}:1:1: a stack file is a mapping with a `config:` key"])
    unknown = [
        f"{_where(display, key.start_mark)}: {unknown_key_message(_key_text(key), STACK_FILE_KEYS)}"
        for key, _ in (root.value if isinstance(root, yaml.MappingNode) else [])
        if _key_text(key) not in STACK_FILE_KEYS
    ]
    if unknown:
        raise StackFileError(unknown)
    config = document.get("config") or {}
    if not isinstance(config, Mapping):
        raise StackFileError([f"{display}: `config:` must be a mapping of key: value"])
    return StackFile(name, path, dict(config), _config_positions(root))


def _key_text(node: yaml.Node) -> str:
    return str(node.value) if isinstance(node, yaml.ScalarNode) else f"<{node.tag}>"


def _duplicate_keys(node: yaml.Node, display: str) -> Iterator[tuple[Position, str]]:
    """Every key a mapping repeats, with its position (to list them in file order)."""
    if isinstance(node, yaml.MappingNode):
        first: dict[str, yaml.Node] = {}
        for key, value in node.value:
            text = _key_text(key)
            if text in first and text != "<<":
                yield (key.start_mark.line, key.start_mark.column), (
                    f"{_where(display, key.start_mark)}: duplicate key {text!r} "
                    f"(first at line {first[text].start_mark.line + 1}); a later value would silently replace it"
                )
            first.setdefault(text, key)
            yield from _duplicate_keys(value, display)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item, display)


def _config_positions(root: yaml.Node | None) -> dict[tuple[str | int, ...], Position]:
    positions: dict[tuple[str | int, ...], Position] = {}
    config = _child(root, "config")
    if not isinstance(config, yaml.MappingNode):
        return positions
    prefix = f"{PROJECT}:"

    def walk(node: yaml.Node, path: tuple[str | int, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*path, _key_text(key))
                positions.setdefault(child, (key.start_mark.line + 1, key.start_mark.column + 1))
                walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                positions[(*path, index)] = (item.start_mark.line + 1, item.start_mark.column + 1)
                walk(item, (*path, index))

    for key, value in config.value:
        text = _key_text(key)
        top = text[len(prefix) :] if text.startswith(prefix) else text
        positions[(top,)] = (key.start_mark.line + 1, key.start_mark.column + 1)
        walk(value, (top,))
    return positions


def _child(node: yaml.Node | None, name: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if _key_text(key) == name:
                return value
    return None


# --- config errors at their line --------------------------------------------------------------------


def _key_path(text: str) -> tuple[str | int, ...]:
    tokens: list[str | int] = [int(i) if i else str(k) for i, k in _PATH_TOKEN.findall(text)]
    return tuple(tokens[1:]) if tokens[:1] == [PROJECT] else tuple(tokens)


def position_of(stack_file: StackFile, key_path: str) -> Position | None:
    """Where `key_path` (`pipelines.media.stages[0].name`) is written, else its nearest written parent."""
    path = _key_path(key_path)
    while path:
        if path in stack_file.positions:
            return stack_file.positions[path]
        path = path[:-1]
    return None


def locate(errors: list[str], stack_file: StackFile) -> list[str]:
    """Config errors (`<key.path>: <message>`) prefixed with `file:LINE:COL` of the key, or the file name."""
    out = []
    for error in errors:
        key_path = error.split(": ", 1)[0]
        position = position_of(stack_file, key_path)
        where = f"{stack_file.display}:{position[0]}:{position[1]}" if position else stack_file.display
        out.append(f"{where}: {error}")
    return out


def locate_for_program(errors: list[str], stack: str, program_namespace: Mapping[str, Any]) -> list[str]:
    """`locate`, for the program under `pulumi up`: only when `Pulumi.<stack>.yaml` holds the config it runs.

    The engine hands the program values, not positions; the project's stack file gives them back when
    its namespace is exactly what the engine passed (otherwise the errors are returned as they are).
    """
    try:
        stack_file = read_stack(stack)
    except (UnknownStackError, StackFileError):
        return errors
    if namespace_config(stack_file.config) != dict(program_namespace):
        return errors
    return locate(errors, stack_file)
