"""Building the LLM prompt from the templates (assistant.prompts) and the retrieved passages.

Each passage is numbered [n] and given as quoted data: inside ``<passage n="…">`` tags, with its
locality, title, heading path, label and file, and the original text between two ``\"\"\"``
lines. Anything in a passage that could close those delimiters is neutralized, so a document
cannot end its own quotation and speak as the user.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from assistant.answering.extractive import locality
from assistant.prompts import read_template
from assistant.records import Hit


def _quote_safe(text: str) -> str:
    """Text that cannot close the passage tag or the triple-quote block."""
    return text.replace('"""', "“”“").replace("<", "＜").replace(">", "＞")


def format_passage(n: int, hit: Hit) -> str:
    c = hit.chunk
    d = c.doc
    place = " › ".join([*c.path, c.label] if c.label else list(c.path))
    lines = [f'<passage n="{n}">']
    if loc := locality(d):
        lines.append(f"地区：{_quote_safe(loc)}")
    year = f"（{d.year}）" if d.year else ""
    note = d.version.note if d.version else ""
    lines.append(f"文件：《{_quote_safe(d.title)}》{year}{note}")
    if place:
        lines.append(f"位置：{_quote_safe(place)}")
    lines.append(f"来源文件：{_quote_safe(d.source_path or d.file)}")
    lines += ['"""', _quote_safe(c.text.strip()), '"""', "</passage>"]
    return "\n".join(lines)


def build_prompt(
    question: str, passages: Sequence[Hit], prompts_dir: Path | None = None
) -> tuple[str, str]:
    """(system message, user message) for ``question`` over the numbered ``passages``."""
    body = "\n\n".join(format_passage(i, h) for i, h in enumerate(passages, start=1))
    user = (
        read_template("answer", prompts_dir)
        .replace("{{question}}", _quote_safe(question.strip()))
        .replace("{{passages}}", body)
    )
    return read_template("system", prompts_dir).strip(), user.strip()
