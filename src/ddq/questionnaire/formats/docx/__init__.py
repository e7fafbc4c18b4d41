"""Word (DOCX) questionnaires: numbered question paragraphs and question/answer tables.

Extraction walks the body in document order (paragraphs and tables interleaved), keeping the
headings above as the section. A question is either

- a numbered paragraph (list numbering, or a written "1.2", "Q3:", "a)") that reads as a
  question, answered in the paragraph right after it when that one is empty, labelled
  ("Answer:") or a placeholder ("[Answer]"), else in a new paragraph inserted after it; or
- a row of a table whose header names a question column and an answer column (a Yes/No
  column is the answer and the comments the notes), or of a two-column table of questions.

An answer place holding labelled check boxes ("☐ Yes ☐ No", see ``boxes``) is a choice
among its labels, answered by ticking one; a question may carry its boxes in its own
paragraph. The supporting text goes to the notes column, a "Comments:" paragraph below the
boxes, or a new paragraph there (in a table cell: below the boxes, in the same cell).

Writing changes only the answer places: python-docx parses the package, the answer paragraphs
and cells are edited in ``word/document.xml``, and the copy is assembled from the original
zip with every other part copied byte for byte (images, headers, styles, numbering, ...).

Refs: ``table:<t>:<row>:<col>`` (a table cell), ``table:<t>:<row>:<first>-<last>`` (a row's
choice cells, to mark), ``table:<t>:<row>:<col>:below`` (below a cell's check boxes),
``paragraph:<p>`` (a body paragraph, by index among the body's paragraphs) and ``after:<p>``
(a new paragraph to insert after body paragraph ``p``).

Modules: ``body_xml`` (namespaces, text as Word shows it), ``grid`` (table grids and merges),
``numbering`` (list numbers), ``boxes`` (check boxes), ``places`` (answer places), ``walk``
and ``tables`` (finding questions), ``reading`` (extraction), ``editing`` (changing the body
XML), ``writing`` (the answered copy).
"""

from __future__ import annotations

from ddq.forms import FileFormat
from ddq.questionnaire.formats.base import ModuleFormat


class DocxFormat(ModuleFormat):
    format = FileFormat.DOCX
    suffixes = (".docx",)
    reader = "ddq.questionnaire.formats.docx.reading:extract_docx"
    writer = "ddq.questionnaire.formats.docx.writing:write_docx"
