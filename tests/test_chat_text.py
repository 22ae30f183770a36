"""Chat text: what documents and models say shows as text, never as markup, links or images."""

from __future__ import annotations

import pytest

from assistant.chat_text import chat_markdown


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("<script>document.title='x'</script>", "&lt;script&gt;document.title='x'&lt;/script&gt;"),
        ("&lt;b&gt; 与 &amp;", "&amp;lt;b&amp;gt; 与 &amp;amp;"),
        ("[点此](javascript:alert(1))", "[点此]\\(javascript:alert(1))"),
        ("![图](http://evil.example/t.png)", "![图]\\(http:\\/\\/evil.example/t.png)"),
        ("[报名][1]\n[1]: http://x.cn", "[报名]\\[1]\n\\[1]: http:\\/\\/x.cn"),
        ("见 www.moe.gov.cn 或 a@b.cn", "见 www\\.moe.gov.cn 或 a\\@b.cn"),
    ],
)
def test_markup_links_and_images_are_neutralised(text, escaped):
    assert chat_markdown(text) == escaped


def test_answer_structure_and_citation_marks_are_kept():
    answer = "在 2 份文件中找到：\n\n庄浪县《要点》\n- 22.：严格落实“双减”政策[1]\n> 注意：x"
    assert chat_markdown(answer) == answer
