"""The one interface every questionnaire file kind implements, in both directions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from importlib import import_module
from pathlib import Path
from typing import ClassVar, cast

from ddq.forms import DEFAULT_LIMITS, Extraction, ExtractOptions, FileFormat, PackageLimits


class QuestionnaireFormat(ABC):
    """A file kind a questionnaire comes as (a workbook, a Word document, a CSV file).

    ``extract`` reads its questions and their answer places, each place with its kind and,
    for a choice, its allowed values; ``write`` puts values into a copy at those places,
    keeping everything else. A place's ``ref`` is this format's own address, which nothing
    but this format reads.
    """

    #: The format, as jobs and extractions name it.
    format: ClassVar[FileFormat]
    #: The file endings it reads, lower case with the dot (".xlsx").
    suffixes: ClassVar[tuple[str, ...]]

    @abstractmethod
    def extract(self, path: Path, options: ExtractOptions = ExtractOptions(),
                limits: PackageLimits = DEFAULT_LIMITS) -> Extraction:
        """The questions of ``path``; a file it cannot read is a DDQError with its reason."""

    @abstractmethod
    def write(self, source: Path, destination: Path, fills: Mapping[str, str]) -> int:
        """Write ``fills`` (value by answer-place ref) into a copy of ``source`` at
        ``destination``; the number of places written."""


class ModuleFormat(QuestionnaireFormat):
    """A format whose reader and writer are functions of its own modules, named
    ``"module:function"`` and imported on first use (so that naming the supported file
    endings never imports a parser)."""

    reader: ClassVar[str]
    writer: ClassVar[str]

    @staticmethod
    def _function(name: str) -> Callable[..., object]:
        module, function = name.split(":")
        return cast(Callable[..., object], getattr(import_module(module), function))

    def extract(self, path: Path, options: ExtractOptions = ExtractOptions(),
                limits: PackageLimits = DEFAULT_LIMITS) -> Extraction:
        return cast(Extraction, self._function(self.reader)(path, options, limits))

    def write(self, source: Path, destination: Path, fills: Mapping[str, str]) -> int:
        return cast(int, self._function(self.writer)(source, destination, fills))
