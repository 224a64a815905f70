"""Which of a notebook's code the grader runs.

The rule: from every code cell, in order, the grader keeps only the top-level ``import`` and
``from ... import`` statements, function and class definitions (with their decorators), and
assignments of literal constants (``EPS = 1e-12``). Everything else at the top level (calls such
as ``check(...)``, prints, plots, loops, demos, assignments of computed values) is dropped, and so
are IPython magics (``%...``, ``!...``) and imports of ``nutshell_lib.grading``. A cell with a
syntax error is skipped and reported. Learners can therefore experiment freely in their cells;
only what they define is graded.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

import nbformat

EXERCISE_METADATA_KEY = "nutshell"


@dataclass
class Extracted:
    snippets: list[tuple[str, str]] = field(default_factory=list)  # (label, source) to exec in order
    problems: list[str] = field(default_factory=list)              # cells that could not be parsed


def without_magics(source: str) -> str:
    """Blank IPython's line magics and shell escapes, keeping line numbers."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def is_kept(node: ast.stmt) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, ast.Import):
        return not any(alias.name.startswith("nutshell_lib.grading") for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        grading = module.startswith("nutshell_lib.grading") or (
            module == "nutshell_lib" and any(alias.name == "grading" for alias in node.names))
        return not grading
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        try:
            ast.literal_eval(node.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False
        return True
    return False


def statement_source(lines: list[str], node: ast.stmt) -> str:
    """The statement's exact text (decorators included), preceded by blank lines so that
    tracebacks give the line number inside the cell. (ast's column offsets count UTF-8 bytes.)"""
    first = node.decorator_list[0] if getattr(node, "decorator_list", None) else node
    start_line, start_col = first.lineno, first.col_offset - (1 if first is not node else 0)
    text = [line.encode() for line in lines[start_line - 1:node.end_lineno]]
    text[-1] = text[-1][:node.end_col_offset]
    text[0] = text[0][start_col:]
    return "\n" * (start_line - 1) + b"\n".join(text).decode() + "\n"


def extract(notebook: nbformat.NotebookNode) -> Extracted:
    result = Extracted()
    code_cells = (cell for cell in notebook.cells if cell.cell_type == "code")
    for number, cell in enumerate(code_cells, start=1):
        label = f"<cell {number}>"
        source = without_magics(cell.source)
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            result.problems.append(f"code cell {number} has a syntax error (line {exc.lineno}: {exc.msg}); it was skipped")
            continue
        lines = source.splitlines()
        result.snippets += [(label, statement_source(lines, node)) for node in tree.body if is_kept(node)]
    return result


def exercise_name(notebook: nbformat.NotebookNode) -> str | None:
    """The exercise a released notebook belongs to (``nutshell release`` keeps this metadata)."""
    entry = notebook.metadata.get(EXERCISE_METADATA_KEY)
    value = entry.get("exercise") if isinstance(entry, dict) else None
    return value if isinstance(value, str) else None
