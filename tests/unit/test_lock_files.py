"""The lock files (requirements/) agree with pyproject.toml: every dependency of every locked
extra is pinned there, at a version its specifier accepts, once, with hashes; so CI fails
when pyproject.toml changes and `make lock` was not run."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
#: The extras each lock file covers, as requirements/update.sh and the Makefile use them.
LOCKED = {
    "lock.txt": ("local", "onnx", "openvino", "openai", "serve", "postgres", "tracing"),
    "lock-test.txt": ("dev", "llm-test"),
    "lock-bench-langchain.txt": ("bench-langchain",),
}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^ ;\\]+)")


def pins(name: str) -> dict[str, tuple[Version, int]]:
    """{package: (version, hash count)} of one lock file."""
    found: dict[str, tuple[Version, int]] = {}
    current = None
    for line in (ROOT / "requirements" / name).read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            assert current not in found, f"{current} listed twice in {name}"
            found[current] = (Version(match.group(3)), 0)
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            version, hashes = found[current]
            found[current] = (version, hashes + 1)
    return found


def test_every_locked_dependency_is_pinned_at_a_version_pyproject_accepts() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    files = {name: pins(name) for name in LOCKED}
    locked: dict[str, Version] = {}
    for name, entries in files.items():
        for package, (version, hashes) in entries.items():
            assert hashes >= 1, f"{package} in {name} has no hash"
            assert package not in locked, f"{package} is in more than one lock file"
            locked[package] = version
    wanted = [Requirement(r) for r in project["dependencies"]]
    for extras in LOCKED.values():
        for extra in extras:
            wanted += [Requirement(r) for r in project["optional-dependencies"][extra]]
    stale = [
        str(r)
        for r in wanted
        if canonicalize_name(r.name) not in locked
        or not r.specifier.contains(locked[canonicalize_name(r.name)], prereleases=True)
    ]
    assert not stale, f"pyproject.toml and the lock disagree (run `make lock`): {stale}"


def test_torch_is_the_pinned_cpu_build() -> None:
    version, _ = pins("lock.txt")["torch"]
    assert str(version) == "2.13.0+cpu"
    assert not [p for p in pins("lock.txt") if p.startswith("nvidia-")]
