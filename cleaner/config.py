"""Settings: defaults, then ``[tool.cleaner]`` in pyproject.toml, then the command line.

The pyproject.toml is found upward from the current directory, like ruff does.
Every effective setting remembers where it came from (``cleaner config``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    tomllib = None  # type: ignore[assignment]

from .errors import CleanerError

# The safety valve: a document where the rules would remove more than this share
# of its characters is left unchanged and reported. On the development pages,
# boilerplate is about a tenth of the lines of extracted text; a page losing over
# half its characters is far more often a rule misfiring (or a page that is all
# list, navigation or teasers) than a page that really is mostly boilerplate, and
# a person should look at it rather than have it silently gutted.
DEFAULT_MAX_REMOVED = 0.5

DEFAULTS: dict[str, Any] = {
    "select": [],
    "ignore": [],
    "extend-rules": [],
    "field": "text",
    "max-removed": DEFAULT_MAX_REMOVED,
    "glob": ["*.txt"],
    "jobs": 0,  # 0: number of cores
    "lang": [],  # empty: rules for every language
}
LIST_KEYS = {"select", "ignore", "extend-rules", "glob", "lang"}


class ConfigError(CleanerError):
    pass


@dataclass
class Settings:
    values: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS))
    sources: dict[str, str] = field(default_factory=lambda: {k: "default" for k in DEFAULTS})
    file: Path | None = None

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def override(self, key: str, value: Any, source: str = "command line") -> None:
        if value is None or (key in LIST_KEYS and value == []):
            return
        self.values[key] = value
        self.sources[key] = source


def find_pyproject(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def _check(key: str, value: Any, path: Path) -> Any:
    where = f"{path}: [tool.cleaner] {key}"
    if key in LIST_KEYS:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: must be a string or a list of strings")
        if key == "extend-rules":  # relative to the pyproject.toml that names them
            value = [str((path.parent / v).resolve()) for v in value]
        return value
    if key == "field":
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}: must be a non-empty string")
        return value
    if key == "max-removed":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise ConfigError(f"{where}: must be a number in (0, 1]")
        return float(value)
    if key == "jobs":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{where}: must be a whole number, 0 or more")
        return value
    raise ConfigError(f"{where}: unknown setting (known: {', '.join(sorted(DEFAULTS))})")


def load_settings(start: Path | None = None, isolated: bool = False) -> Settings:
    settings = Settings()
    if isolated or os.environ.get("CLEANER_NO_CONFIG"):
        return settings
    path = find_pyproject(start)
    if path is None or tomllib is None:
        return settings
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read settings: {exc}") from None
    section = data.get("tool", {}).get("cleaner")
    if section is None:
        return settings
    settings.file = path
    for key, value in section.items():
        key = key.replace("_", "-")
        settings.override(key, _check(key, value, path), f"{path}")
    return settings
