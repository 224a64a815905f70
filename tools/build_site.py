"""Render the course to static HTML for reading without Jupyter: ``make site`` (output in site/).

    python tools/build_site.py --out site notebooks exercises

Each notebook is rendered by nbconvert's HTML exporter with the outputs stored in it (the course
is committed executed); ``--execute`` runs every notebook first, in its own folder, without
writing it back. Links from one notebook to another (``02_perceptron.ipynb#Training``)
are rewritten to the matching ``.html`` page, the folder layout is kept so relative links between
folders still work, and ``index.html`` lists every page under its folder.
"""
from __future__ import annotations

import argparse
import html
import os
import re
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import ExecutePreprocessor

# href="<relative path>.ipynb" or href='...ipynb#anchor'; URLs with a scheme (https:, mailto:),
# site-absolute paths and bare anchors are left alone.
NOTEBOOK_HREF = re.compile(
    r"""\bhref=(?P<quote>["'])(?P<path>(?![A-Za-z][A-Za-z0-9+.\-]*:|/|#)[^"'#?]*?)\.ipynb(?P<rest>[#?][^"']*)?(?P=quote)"""
)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
MARKDOWN_DECORATION = re.compile(r"[*_`]|\[([^\]]*)\]\([^)]*\)")


def rewrite_notebook_links(page: str) -> str:
    """Point every relative link to a notebook at the HTML page rendered from it."""
    return NOTEBOOK_HREF.sub(
        lambda m: f"href={m['quote']}{m['path']}.html{m['rest'] or ''}{m['quote']}", page
    )


def notebook_title(notebook) -> str | None:
    """The first Markdown heading, as plain text."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            heading = HEADING.search(cell.source)
            if heading:
                return MARKDOWN_DECORATION.sub(lambda m: m.group(1) or "", heading.group(1)).strip()
    return None


def back_link(page: str, index_href: str) -> str:
    nav = f'<nav style="padding: 0.5em 1em; font-family: sans-serif"><a href="{index_href}">&larr; Course index</a></nav>'
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav, page, count=1)


def render_notebook(source: Path, target: Path, index_href: str, exporter: HTMLExporter, execute: bool) -> str:
    """Write ``target`` (HTML) from notebook ``source``; return the notebook's title."""
    notebook = nbformat.read(source, as_version=4)
    if execute:
        ExecutePreprocessor(timeout=600, kernel_name="python3").preprocess(
            notebook, {"metadata": {"path": str(source.parent)}}
        )
    title = notebook_title(notebook) or source.stem
    page, _ = exporter.from_notebook_node(
        notebook, resources={"metadata": {"name": title, "path": str(source.parent)}}
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(back_link(rewrite_notebook_links(page), index_href), encoding="utf-8")
    return title


def index_page(sections: dict[str, list[tuple[str, str]]]) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Deep Learning in a Nutshell</title>',
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;line-height:1.5}</style>",
        "</head><body><h1>Deep Learning in a Nutshell</h1>",
        "<p>The course as static pages, with the outputs it was committed with. "
        "To run and change the code, open the notebooks in JupyterLab (<code>make lab</code>).</p>",
    ]
    for folder, pages in sections.items():
        parts.append(f"<h2>{html.escape(folder)}/</h2><ul>")
        parts += [f'<li><a href="{html.escape(href)}">{html.escape(title)}</a></li>' for href, title in pages]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def build_site(root: Path, folders: list[str], out: Path, execute: bool = False) -> list[Path]:
    """Render every notebook under ``root/<folder>`` into ``out``; return the pages written."""
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    sections: dict[str, list[tuple[str, str]]] = {}
    written = []
    for folder in folders:
        sources = [p for p in sorted((root / folder).rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts]
        for source in sources:
            relative = source.relative_to(root).with_suffix(".html")
            target = out / relative
            index_href = os.path.relpath(out / "index.html", target.parent)
            title = render_notebook(source, target, index_href, exporter, execute)
            sections.setdefault(folder, []).append((relative.as_posix(), title))
            written.append(target)
            print(f"{source.relative_to(root)} -> {target}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "index.html").write_text(index_page(sections), encoding="utf-8")
    return written


def missing_link_targets(pages: list[Path]) -> list[str]:
    """Relative links to HTML pages that were not written (a notebook linking to one that is not there)."""
    missing = []
    for page in pages:
        for match in re.finditer(r"""\bhref=["'](?![A-Za-z][A-Za-z0-9+.\-]*:|/|#)([^"'#?]+\.html)""", page.read_text(encoding="utf-8")):
            if not (page.parent / match.group(1)).is_file():
                missing.append(f"{page}: {match.group(1)}")
    return sorted(set(missing))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="folders of notebooks, relative to --root")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="course root (default: current directory)")
    parser.add_argument("--out", type=Path, default=Path("site"), help="output folder (default: site)")
    parser.add_argument("--execute", action="store_true", help="run each notebook before rendering it")
    args = parser.parse_args(argv)
    pages = build_site(args.root, args.folders, args.out, args.execute)
    print(f"{len(pages)} pages and {args.out / 'index.html'}")
    for broken in missing_link_targets(pages):
        print(f"warning: link to a page that is not in the site: {broken}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
