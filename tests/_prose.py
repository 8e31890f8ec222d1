"""The prose a reader sees on a built page, without what code produced: the numbers in it must come from
the records (myst-nb glue, notebook outputs), so a typed number is a finding of tests/test_book.py.

What is left out of a page's article before its digits are read: notebook outputs (``.cell_output``),
glued values and tables (``.causalmix-glue``, ``.causalmix-table``), code and commands (``code``, ``pre``),
math and the theme's navigation. What a typed digit may be: a single digit (an ordinal, a formula's
constant, "step 0"), a year, a notebook's number ("04"), or one of the paper's numbers and SPEC's fixed
protocol constants, which live in :mod:`causalmix.report.paper` (``PAPER_NUMBERS``, ``SPEC_NUMBERS``).
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup

from causalmix.report.paper import PAPER_NUMBERS, SPEC_NUMBERS

GENERATED = (".cell_output", ".output", ".causalmix-glue", ".causalmix-table", "code", "pre", ".highlight", ".math",
             "math", ".headerlink", "script", "style", ".cell_input")
NUMBER = re.compile(r"(?<![\w.\-/#])\d+(?:[.,]\d+)*(?![\w])")
ALLOWED = set(PAPER_NUMBERS) | set(SPEC_NUMBERS)


def prose(page: Path) -> str:
    soup = BeautifulSoup(page.read_text(), "html.parser")
    article = soup.select_one("article.bd-article") or soup.body
    if article is None:  # a redirect page (index.html)
        return ""
    for selector in GENERATED:
        for node in article.select(selector):
            node.decompose()
    return article.get_text(" ")


def allowed(number: str) -> bool:
    if len(number) == 1 or number in ALLOWED:
        return True
    if re.fullmatch(r"(19|20)\d\d", number) or re.fullmatch(r"0\d", number):  # a year, a notebook's number
        return True
    return False


def typed_numbers(page: Path) -> list[str]:
    """The numbers typed in a page's prose that no code produced, each with a little context."""
    text = " ".join(prose(page).split())
    found = []
    for match in NUMBER.finditer(text):
        number = match.group(0).rstrip(".,")
        if not allowed(number):
            found.append(f"{number!r} in “…{text[max(0, match.start() - 50):match.end() + 30]}…”")
    return found
