"""Text for the chat's Markdown renderer, escaped so that document and model text shows as text.

Answers quote documents and model output verbatim; Markdown would turn ``<img onerror=…>`` into
an element (left to the front end's sanitiser) and ``[x](url)``, ``![x](src)`` or a bare URL into
a live link or image. ``chat_markdown`` neutralises exactly that before the text reaches Gradio:
HTML special characters become entities, link and image syntax and URL autolinks are broken by
backslash escapes (which render as nothing). Line structure (paragraphs, "- " items, "> " notes)
and the [n] citation marks are left as they are.
"""

from __future__ import annotations

import re

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_QUOTE = re.compile(r"^&gt;", re.MULTILINE)  # a quote mark at a line start is structure
_LINK = re.compile(r"\]([(\[])")  # [text](url), [text][ref], ![alt](src)
_REF_DEFINITION = re.compile(r"^(\s{0,3})\[(?=[^\]\n]*\]:)", re.MULTILINE)  # [ref]: url
_AUTOLINK = re.compile(r"://|(?i:www)\.|@")  # GFM links bare URLs and e-mail addresses


def chat_markdown(text: str) -> str:
    """``text`` as Markdown that renders to the same characters, with no HTML, link or image.

    >>> print(chat_markdown("<img src=x onerror=alert(1)> [点此](javascript:x) www.x.cn"))
    &lt;img src=x onerror=alert(1)&gt; [点此]\\(javascript:x) www\\.x.cn
    """
    out = "".join(_HTML.get(ch, ch) for ch in text)
    out = _QUOTE.sub(">", out)
    out = _LINK.sub(r"]\\\1", out)
    out = _REF_DEFINITION.sub(r"\1\\[", out)
    return _AUTOLINK.sub(lambda m: "".join("\\" + ch if ch in "/.@" else ch for ch in m[0]), out)
