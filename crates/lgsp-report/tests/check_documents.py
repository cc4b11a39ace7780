#!/usr/bin/env python3
"""Opens the report's renderings with third-party readers and prints what they see.

    python3 -m venv /tmp/docs-venv && /tmp/docs-venv/bin/pip install python-docx pypdf openpyxl
    /tmp/docs-venv/bin/python crates/lgsp-report/tests/check_documents.py bao-cao.docx bao-cao.pdf bao-cao.xlsx

Not run by `cargo test` (it needs Python packages); a reviewer's check that files written by
`cargo run -p lgsp-report --example sample --features sample -- DIR` open elsewhere.
"""
import sys


def docx(path):
    import docx as python_docx
    from docx.shared import Emu

    document = python_docx.Document(path)
    section = document.sections[0]
    mm = lambda length: round(Emu(length).mm, 1)
    print(f"page {mm(section.page_width)} x {mm(section.page_height)} mm, margins "
          f"top {mm(section.top_margin)} bottom {mm(section.bottom_margin)} "
          f"left {mm(section.left_margin)} right {mm(section.right_margin)} mm")
    style = document.styles["Normal"].font
    print(f"default font: {document.styles.element.xpath('//w:rPrDefault//w:rFonts/@w:ascii')} "
          f"{style.size}")
    print(f"core: title={document.core_properties.title!r} created={document.core_properties.created}")
    for paragraph in document.paragraphs:
        if paragraph.text.strip():
            print(f"[{paragraph.style.name}] {paragraph.text}")
    for i, table in enumerate(document.tables):
        print(f"-- table {i + 1}: {len(table.rows)} rows x {len(table.columns)} columns")
        for row in table.rows[:4]:
            print("   | " + " | ".join(cell.text.replace("\n", " ⏎ ") for cell in row.cells))
    charts = [p for p in document.part.package.iter_parts() if "/charts/chart" in str(p.partname)]
    print(f"charts: {[str(p.partname) for p in charts]}")


def pdf(path):
    import pypdf

    reader = pypdf.PdfReader(path)
    print(f"{len(reader.pages)} pages, info {dict(reader.metadata or {})}")
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            fonts.add(str(font["/BaseFont"]))
    print(f"fonts: {sorted(fonts)}")
    for number, page in enumerate(reader.pages, start=1):
        print(f"===== page {number}")
        print(page.extract_text())


def xlsx(path):
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    for sheet in workbook.worksheets:
        print(f"===== sheet {sheet.title!r}: {sheet.max_row} rows x {sheet.max_column} columns, "
              f"{len(sheet._charts)} charts")
        for row in sheet.iter_rows(values_only=True):
            if any(value is not None for value in row):
                print("   | " + " | ".join("" if v is None else repr(v) for v in row))


for path in sys.argv[1:]:
    print(f"########## {path}")
    {"docx": docx, "pdf": pdf, "xlsx": xlsx}[path.rsplit(".", 1)[-1]](path)
