"""`make site`'s builder (tools/build_site.py) on a tiny two-folder course."""
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def build_site_module():
    spec = importlib.util.spec_from_file_location("build_site", ROOT / "tools" / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_notebook(path: Path, *cells) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = list(cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


@pytest.fixture(scope="module")
def built_site(build_site_module, tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    code = nbformat.v4.new_code_cell("print('see 02_next.ipynb')")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="stored output: 02_next.ipynb\n")]
    code.execution_count = 1
    write_notebook(
        course / "notebooks" / "01_start.ipynb",
        nbformat.v4.new_markdown_cell(
            "# The *first* notebook\n"
            "Go on to [the next one](02_next.ipynb#Part-two), try [an exercise](../exercises/ex_1.ipynb), "
            "read [elsewhere](https://example.org/remote.ipynb) or <a href='02_next.ipynb'>here</a>."
        ),
        code,
    )
    write_notebook(course / "notebooks" / "02_next.ipynb", nbformat.v4.new_markdown_cell("## Part two"))
    write_notebook(course / "exercises" / "ex_1.ipynb", nbformat.v4.new_code_cell("x = 1"))
    out = course / "site"
    assert build_site_module.main(["--root", str(course), "--out", str(out), "notebooks", "exercises"]) == 0
    return out


def test_every_notebook_becomes_a_page(built_site):
    pages = sorted(p.relative_to(built_site).as_posix() for p in built_site.rglob("*.html"))
    assert pages == ["exercises/ex_1.html", "index.html", "notebooks/01_start.html", "notebooks/02_next.html"]


def test_links_between_notebooks_point_at_pages(built_site):
    page = (built_site / "notebooks" / "01_start.html").read_text()
    assert 'href="02_next.html#Part-two"' in page
    assert 'href="../exercises/ex_1.html"' in page
    assert 'href="02_next.html"' in page  # written as raw HTML with single quotes
    assert 'href="https://example.org/remote.ipynb"' in page
    local_notebook_links = re.findall(r"href=[\"'](?!https:)[^\"']*\.ipynb", page)
    assert local_notebook_links == []
    assert "stored output: 02_next.ipynb" in page


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("<a href='a b.ipynb?x=1'>", "<a href='a b.html?x=1'>"),
        ('<a href="../x/y.ipynb">', '<a href="../x/y.html">'),
        ('<a href="/abs.ipynb">', '<a href="/abs.ipynb">'),
        ('<a href="file:///c.ipynb">', '<a href="file:///c.ipynb">'),
        ('<a href="#n.ipynb">', '<a href="#n.ipynb">'),
        ('<a href="notes.ipynb.txt">', '<a href="notes.ipynb.txt">'),
        ('<img src="pic.ipynb">', '<img src="pic.ipynb">'),
    ],
)
def test_rewrite_notebook_links(build_site_module, link, expected):
    assert build_site_module.rewrite_notebook_links(link) == expected


def test_index_lists_pages_by_title_and_pages_link_back(built_site):
    index = (built_site / "index.html").read_text()
    assert '<a href="notebooks/01_start.html">The first notebook</a>' in index
    assert '<a href="notebooks/02_next.html">Part two</a>' in index
    assert '<a href="exercises/ex_1.html">ex_1</a>' in index
    assert 'href="../index.html"' in (built_site / "exercises" / "ex_1.html").read_text()


def test_no_link_in_the_site_is_broken(build_site_module, built_site):
    assert build_site_module.missing_link_targets(list(built_site.rglob("*.html"))) == []


def test_execute_renders_fresh_outputs(build_site_module, tmp_path):
    write_notebook(tmp_path / "notebooks" / "a.ipynb", nbformat.v4.new_code_cell("print(6 * 7, 'from a fresh kernel')"))
    (page,) = build_site_module.build_site(tmp_path, ["notebooks"], tmp_path / "site", execute=True)
    assert "42 from a fresh kernel" in page.read_text()


def test_a_link_to_a_missing_notebook_is_reported(build_site_module, tmp_path):
    write_notebook(tmp_path / "notebooks" / "a.ipynb", nbformat.v4.new_markdown_cell("[gone](gone.ipynb)"))
    pages = build_site_module.build_site(tmp_path, ["notebooks"], tmp_path / "site")
    assert build_site_module.missing_link_targets(pages) == [f"{pages[0]}: gone.html"]
