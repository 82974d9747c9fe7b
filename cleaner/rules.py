"""Loading rule files: one rule per YAML file, id from its path.

Every problem is reported as a :class:`RuleError` naming the file, the line
and the key, so a person can fix it without reading the loader.
"""

from __future__ import annotations

import difflib
import functools
from pathlib import Path
from typing import Any, Iterable

import regex
import yaml

from .errors import RuleError
from .kinds import KINDS, WHERE, Pattern, Rule

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ten times faster
COMMON_KEYS = {"kind", "message", "examples", "ignorecase", "lang", "metadata"}
EXAMPLE_KEYS = {"in", "out", "name"}
DEFAULT_TIMEOUT = 1.0


def bundled_rules_dir() -> Path:
    """The rules shipped with cleaner (inside the wheel, or rules/ in a checkout)."""
    here = Path(__file__).resolve().parent
    packaged = here / "_rules"
    if packaged.is_dir():
        return packaged
    return here.parent / "rules"


def rule_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
    )


def rule_id(folder: Path, path: Path) -> str:
    rel = path.relative_to(folder).with_suffix("")
    return ".".join(rel.parts)


# --- YAML with line numbers -------------------------------------------------


class _Node:
    """A YAML node's value together with the line it starts on (1-based)."""

    def __init__(self, node: yaml.Node, path: str):
        self.node = node
        self.path = path
        self.line = node.start_mark.line + 1

    def child(self, key: Any) -> "_Node | None":
        if isinstance(self.node, yaml.MappingNode):
            for k, v in self.node.value:
                if k.value == key:
                    return _Node(v, self.path)
        elif isinstance(self.node, yaml.SequenceNode) and isinstance(key, int):
            if 0 <= key < len(self.node.value):
                return _Node(self.node.value[key], self.path)
        return None

    def key_line(self, key: str) -> int:
        if isinstance(self.node, yaml.MappingNode):
            for k, _ in self.node.value:
                if k.value == key:
                    return k.start_mark.line + 1
        return self.line


def _parse_yaml(path: Path) -> tuple[Any, _Node]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RuleError(str(path), None, None, f"not UTF-8 ({exc.reason})") from None
    try:  # libyaml first (fast); the pure-Python loader words errors the same everywhere
        fast = _Loader(text)
        try:
            node = fast.get_single_node()
            if node is not None:
                return fast.construct_document(node), _Node(node, str(path))
        finally:
            fast.dispose()
    except yaml.YAMLError:
        pass
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise RuleError(str(path), None, None, "empty rule file")
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        col = f", column {mark.column + 1}" if mark else ""
        hint = ""
        if "mapping values are not allowed" in problem:
            hint = " (a plain string cannot contain ': '; quote it or use '>-')"
        raise RuleError(str(path), line, None, f"invalid YAML{col}: {problem}{hint}") from None
    finally:
        loader.dispose()
    return data, _Node(node, str(path))


# --- validation --------------------------------------------------------------


def _compile(
    src: Any, where: _Node, key: str, flags: int, rid: str, timeout: float
) -> Pattern:
    if not isinstance(src, str) or not src:
        raise RuleError(where.path, where.line, key, "a pattern must be a non-empty string")
    try:
        compiled = regex.compile(src, flags)
    except regex.error as exc:
        pos = getattr(exc, "pos", None)
        at = f" at position {pos}" if pos is not None else ""
        msg = str(exc).split(" at position")[0]
        raise RuleError(where.path, where.line, key, f"invalid regex '{src}'{at}: {msg}") from None
    return Pattern(src, compiled, rid, timeout, where.line)


def _patterns(value: Any, node: _Node, key: str, flags: int, rid: str, timeout: float):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise RuleError(node.path, node.line, key, "must be a pattern or a non-empty list of patterns")
    out = []
    for i, src in enumerate(value):
        item = node.child(i) if isinstance(node.node, yaml.SequenceNode) else node
        out.append(_compile(src, item or node, f"{key}[{i}]", flags, rid, timeout))
    return out


def _check_examples(value: Any, node: _Node) -> list[dict]:
    if not isinstance(value, list) or not value:
        raise RuleError(node.path, node.line, "examples", "must be a non-empty list of {in, out} examples")
    changes = keeps = 0
    for i, ex in enumerate(value):
        ex_node = node.child(i) or node
        if not isinstance(ex, dict):
            raise RuleError(node.path, ex_node.line, f"examples[{i}]", "must be a mapping with 'in' (and 'out')")
        for k in ex:
            if k not in EXAMPLE_KEYS:
                raise RuleError(
                    node.path, ex_node.key_line(k), f"examples[{i}].{k}",
                    "unknown key (allowed: in, out, name)",
                )
        if not isinstance(ex.get("in"), str):
            raise RuleError(node.path, ex_node.line, f"examples[{i}].in", "required, a string")
        if "out" in ex and not isinstance(ex["out"], str):
            raise RuleError(node.path, ex_node.key_line("out"), f"examples[{i}].out", "must be a string")
        if "out" in ex and ex["out"] != ex["in"]:
            changes += 1
        else:
            keeps += 1
    if not changes:
        raise RuleError(node.path, node.line, "examples", "needs at least one example that changes (with 'out')")
    if not keeps:
        raise RuleError(
            node.path, node.line, "examples",
            "needs at least one example that must come back unchanged (no 'out')",
        )
    return value


def load_rule_file(path: Path, rid: str, timeout: float = DEFAULT_TIMEOUT) -> Rule:
    data, root = _parse_yaml(path)
    p = str(path)
    if not isinstance(data, dict):
        raise RuleError(p, root.line, None, "a rule file must be a mapping of keys")
    kind = data.get("kind")
    if kind is None:
        raise RuleError(p, root.line, "kind", f"required (one of: {', '.join(KINDS)})")
    cls = KINDS.get(kind)
    if cls is None:
        raise RuleError(p, root.key_line("kind"), "kind", f"unknown kind {kind!r} (one of: {', '.join(KINDS)})")
    allowed = COMMON_KEYS | set(cls.keys)
    for key in data:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise RuleError(
                p, root.key_line(key), str(key),
                f"unknown key for kind {kind} ({hint}allowed: {', '.join(sorted(allowed))})",
            )
    for key in ["message", "examples", *[k for k, (_, req) in cls.keys.items() if req]]:
        if key not in data:
            raise RuleError(p, root.line, key, "required key is missing")
    message = data["message"]
    if not isinstance(message, str) or not message.strip():
        raise RuleError(p, root.key_line("message"), "message", "must be a non-empty sentence")
    ignorecase = data.get("ignorecase", False)
    if not isinstance(ignorecase, bool):
        raise RuleError(p, root.key_line("ignorecase"), "ignorecase", "must be true or false")
    lang = data.get("lang", ["en"])
    if isinstance(lang, str):
        lang = [lang]
    if not isinstance(lang, list) or not all(isinstance(x, str) for x in lang):
        raise RuleError(p, root.key_line("lang"), "lang", "must be a language code or a list of them")
    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict):
        raise RuleError(p, root.key_line("metadata"), "metadata", "must be a mapping")
    examples = _check_examples(data["examples"], root.child("examples"))

    flags = regex.IGNORECASE if ignorecase else 0
    kwargs: dict[str, Any] = {}
    for key, (typ, _req) in cls.keys.items():
        if key not in data:
            continue
        value, node = data[key], root.child(key)
        line = root.key_line(key)
        if typ == "patterns":
            kwargs[key] = _patterns(value, node, key, flags, rid, timeout)
        elif typ == "int":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RuleError(p, line, key, "must be a whole number, 0 or more")
            kwargs[key] = value
        elif typ == "words":
            if not isinstance(value, list) or not value or not all(
                isinstance(w, str) and w and regex.fullmatch(r"[\p{L}'’]+", w) for w in value
            ):
                raise RuleError(p, line, key, "must be a non-empty list of words (letters and apostrophes only)")
            kwargs[key] = frozenset(w.lower() for w in value)
        elif typ == "where":
            if value not in WHERE:
                raise RuleError(p, line, key, f"must be one of: {', '.join(WHERE)}")
            kwargs[key] = value
    return cls(
        id=rid, path=p, message=" ".join(message.split()), examples=examples,
        ignorecase=ignorecase, lang=lang, metadata=metadata, **kwargs,
    )


def load_folder(folder: Path, timeout: float = DEFAULT_TIMEOUT) -> list[Rule]:
    folder = Path(folder)
    if not folder.is_dir():
        raise RuleError(str(folder), None, None, "rule folder not found")
    return [load_rule_file(f, rule_id(folder, f), timeout) for f in rule_files(folder)]


def matches_selector(rid: str, selectors: Iterable[str]) -> bool:
    """True if ``rid`` is one of the ids, or inside one of the groups, named."""
    return any(rid == s or rid.startswith(s.rstrip(".") + ".") for s in selectors)


@functools.lru_cache(maxsize=32)
def _cached_bundled(timeout: float) -> tuple[Rule, ...]:
    return tuple(load_folder(bundled_rules_dir(), timeout))
