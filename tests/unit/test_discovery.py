"""Finding the files to ingest: folders recursively and in a stable order; what cannot be
ingested is reported, not silently dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddq.ingest.pipeline import Outcome, discover_files

pytestmark = pytest.mark.unit


def test_folders_are_walked_recursively_in_sorted_order(samples) -> None:
    for name in ("b.md", "a.txt", "sub/c.pdf", "sub/deeper/d.csv", "Z.HTML"):
        samples.raw(name, b"x")
    samples.raw("image.png", b"x")
    samples.raw("README", b"x")
    files, problems = discover_files([samples.folder])
    assert [f.relative_to(samples.folder).as_posix() for f in files] == [
        "Z.HTML",
        "a.txt",
        "b.md",
        "sub/c.pdf",
        "sub/deeper/d.csv",
    ]
    assert {(Path(p.source).name, p.outcome, p.detail) for p in problems} == {
        ("image.png", Outcome.SKIPPED, "unsupported file type .png"),
        ("README", Outcome.SKIPPED, "unsupported file type (none)"),
    }


def test_missing_paths_fail_and_duplicates_collapse(samples) -> None:
    doc = samples.raw("doc.md", b"x")
    files, problems = discover_files([doc, samples.folder, samples.folder / "nope.md"])
    assert files == [doc]
    assert [(p.source, p.outcome, p.detail) for p in problems] == [
        (str(samples.folder / "nope.md"), Outcome.FAILED, "no such file or folder")
    ]


def test_hidden_files_are_ignored(samples) -> None:
    samples.raw("visible.md", b"x")
    samples.raw(".draft.md", b"x")
    files, problems = discover_files([samples.folder])
    assert [f.name for f in files] == ["visible.md"]
    assert problems == []


def test_hidden_folders_are_ignored(samples) -> None:
    samples.raw("visible.md", b"x")
    samples.raw(".obsidian/private.md", b"x")
    samples.raw(".git/HEAD", b"ref: refs/heads/main\n")
    files, problems = discover_files([samples.folder])
    assert [f.name for f in files] == ["visible.md"]
    assert problems == []
