"""The code in the docs runs as written.

Every ```python block of the pages below is executed, in order, in one namespace per page (so a
block may use what an earlier block of the same page defined); the asserts in the blocks must hold.
A function named test_* that a page defines (docs/autograd.md shows how to write a gradient test) is
then called with the first value of each of its pytest parameters (device "cpu").

A block that is not meant to run (a sketch, code that needs data or a GPU) opts out with its first
line:

    # not run

Ops that a page defines as examples register in minigrad.autograd.OPS like any other; the registry
is put back as it was after each page.
"""

import re
from pathlib import Path

import pytest

import minigrad as mg
import helpers

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["docs/autograd.md", "README.md", "docs/differences.md"]
NOT_RUN = "# not run"
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```\s*$", re.DOTALL | re.MULTILINE)


def python_blocks(text):
    """(first line number, code) of each ```python block of a markdown text that is to run."""
    blocks = []
    for match in PYTHON_BLOCK.finditer(text):
        code = match.group(1)
        if code.lstrip().startswith(NOT_RUN):
            continue
        blocks.append((text.count("\n", 0, match.start(1)) + 1, code))
    return blocks


def test_python_blocks_finds_the_blocks_and_leaves_out_the_marked_ones():
    text = "intro\n```python\na = 1\n```\n```bash\nls\n```\n```python\n# not run\nb\n```\n```python\nc = 2\n```\n"
    assert python_blocks(text) == [(3, "a = 1\n"), (13, "c = 2\n")]


def call_with_first_parameters(test):
    """Call a pytest-style test function with the first value of each of its parametrize marks."""
    arguments = {}
    for mark in getattr(test, "pytestmark", []):
        if mark.name == "parametrize":
            names = mark.args[0]
            names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
            first = mark.args[1][0]
            arguments.update(zip(names, first if len(names) > 1 else [first]))
    test(**arguments)


@pytest.mark.parametrize("page", PAGES)
def test_the_python_in_a_page_runs(page, capsys):
    text = (ROOT / page).read_text()
    blocks = python_blocks(text)
    fences = text.count("```python")
    skipped = sum(code.lstrip().startswith(NOT_RUN) for code in PYTHON_BLOCK.findall(text))
    assert len(blocks) + skipped == fences, f"{page}: a ```python block is not closed or is indented"
    if not blocks:
        pytest.skip(f"{page} has no python block to run")
    name = "docs_" + re.sub(r"\W", "_", page)
    namespace = {"__name__": name}
    ops, covered = dict(mg.autograd.OPS), set(helpers.COVERED)
    mg.manual_seed(0)
    try:
        for line, code in blocks:
            # padded so that a traceback gives the line number in the page
            exec(compile("\n" * (line - 1) + code, str(ROOT / page), "exec"), namespace)
        tests = [value for key, value in namespace.items()
                 if key.startswith("test_") and callable(value) and getattr(value, "__module__", None) == name]
        for test in tests:
            call_with_first_parameters(test)
    finally:
        mg.autograd.OPS.clear()
        mg.autograd.OPS.update(ops)
        helpers.COVERED.clear()
        helpers.COVERED.update(covered)
    capsys.readouterr()  # the pages print; that output is not checked


def test_autograd_page_has_its_blocks_and_its_gradient_test():
    text = (ROOT / "docs/autograd.md").read_text()
    assert len(python_blocks(text)) >= 9
    assert "def test_sin_gradient" in text


BENCHMARK_SECTIONS = ["cpu", "peers", "cuda"]  # a --threads run adds its own section after its base


@pytest.mark.parametrize("section", BENCHMARK_SECTIONS + ["cpu:threads=1", "peers:threads=1"])
def test_performance_page_has_each_benchmark_section_once(section):
    """benchmarks/run.py rewrites the text between these markers: each must be there once (the
    thread-count sections at most once), start before end, or a rerun would write into the wrong place."""
    text = (ROOT / "docs/performance.md").read_text()
    start, end = f"<!-- benchmark:{section}:start -->", f"<!-- benchmark:{section}:end -->"
    expected = {1} if section in BENCHMARK_SECTIONS else {0, 1}
    assert text.count(start) == text.count(end) and text.count(start) in expected
    assert start not in text or text.index(start) < text.index(end)


def test_docs_carry_no_task_issue_or_session_numbers():
    """The docs say what the software is and does; the history of the work lives in git."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    pattern = re.compile(r"\b(task|issue|session)s? #?\d+", re.IGNORECASE)
    hits = [f"{page.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
            for page in pages for text in [page.read_text()] for m in pattern.finditer(text)]
    assert not hits, hits
