"""Excel workbooks (``.xlsx``, ``.xlsm``): find the questions in a workbook, and write answers
into a copy. Refs: ``<sheet name>!<cell>`` ("Vendor!D5"), or a row's choice cells
``<sheet name>!<first>:<last>`` ("Vendor!C5:E5"), marked under the choice.

Extraction reads the workbook with openpyxl (saved values of formula cells, merged cells, data
validations) plus the two things openpyxl does not give: dropdowns stored in the x14 extension
form (openpyxl drops them) and which cells hold formulas (``data_only`` hides them). Both are
read from the worksheet XML in the package. Sheets that only copy the questionnaire with
formulas (an analyst report, a summary) are skipped, as are hidden sheets unless named.

Write-back never saves through openpyxl, which loses x14 dropdowns, images, charts and some
conditional formats. It copies the zip package entry by entry and rewrites only the worksheet
parts that hold answer cells, changing nothing in them but those cells (and the sheet's
``<dimension>`` when a written cell lies outside it).

Modules: ``values`` (cell text and names), ``package`` (worksheet parts, x14 dropdowns and
formula cells from the XML, shared strings), ``dropdowns`` (list and text-length rules),
``cells`` → ``columns`` → ``rows`` (one sheet: its cells, its columns, its rows), ``sheets``
(which sheets are the questionnaire), ``reading`` (extraction), ``editing`` (a worksheet's
XML), ``writing`` (the answered copy).
"""

from __future__ import annotations

from ddq.forms import FileFormat
from ddq.questionnaire.formats.base import ModuleFormat


class XlsxFormat(ModuleFormat):
    format = FileFormat.XLSX
    suffixes = (".xlsx", ".xlsm")
    reader = "ddq.questionnaire.formats.xlsx.reading:extract_xlsx"
    writer = "ddq.questionnaire.formats.xlsx.writing:write_xlsx"
