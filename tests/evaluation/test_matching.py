"""Quote-based relevance: file + normalized quote containment; broken labels are reported."""

from __future__ import annotations

from assistant.evaluation.datasets import PolicyQuery, RelevantPassage
from assistant.evaluation.matching import find_broken_labels, match_key, passage_matches, units_for
from assistant.records import Chunk, DocumentMeta


def chunk(file: str, text: str, n: int = 0, source_path: str | None = None) -> Chunk:
    doc = DocumentMeta(
        doc_id=file.rsplit(".", 1)[0],
        file=file,
        source_path=source_path or f"work_plans/{file}",
        title="t",
    )
    return Chunk(
        chunk_id=f"{doc.doc_id}:{n}",
        doc=doc,
        path=(),
        label=f"{n}.",
        text=text,
        start=0,
        end=len(text),
    )


TRAD = chunk("004.txt", "十一、堅持抓好教育領域綜合改革。繼續做好“雙減”和政府履職評價工作。", 11)
SIMP = chunk(
    "001.txt", "22.严格落实“双减”政策。遵循教育规律和学生\n成长规律,严格落实“五项管理”", 22
)
FULLWIDTH = chunk("001.txt", "总投资３．９８亿元，总建筑面积4.9万平方米", 11)


def test_match_key_folds_script_width_and_all_whitespace():
    assert match_key("繼續做好 “雙減”\n工作") == match_key("继续做好“双减”工作")
    assert match_key("３．９８亿元") == match_key("3.98亿元")


def test_simplified_quote_matches_traditional_chunk_and_the_reverse():
    assert passage_matches(RelevantPassage("004.txt", "继续做好“双减”和政府履职评价工作", 2), TRAD)
    assert passage_matches(RelevantPassage("001.txt", "嚴格落實“雙減”政策", 2), SIMP)


def test_whitespace_and_line_breaks_in_source_or_quote_do_not_matter():
    assert passage_matches(RelevantPassage("001.txt", "学生成长规律", 1), SIMP)
    assert passage_matches(RelevantPassage("001.txt", "遵循 教育 规律", 1), SIMP)
    assert passage_matches(RelevantPassage("001.txt", "总投资3.98亿元", 2), FULLWIDTH)


def test_the_file_must_match_too():
    # the same words in another file are not the labelled passage
    assert not passage_matches(RelevantPassage("002.txt", "严格落实“双减”政策", 2), SIMP)
    # a label may name the file by a path ending
    law = chunk(
        "教育法.md", "第一条 为了发展教育事业", source_path="regulations/national/教育法.md"
    )
    assert passage_matches(RelevantPassage("national/教育法.md", "发展教育事业", 1), law)
    assert not passage_matches(RelevantPassage("local/教育法.md", "发展教育事业", 1), law)
    assert not passage_matches(RelevantPassage("001.txt", "没有这句话", 1), SIMP)


def test_units_for_maps_a_chunk_to_the_labels_it_satisfies():
    q = PolicyQuery(
        "q1",
        "各地如何落实双减",
        "topic",
        (
            RelevantPassage("001.txt", "严格落实“双减”政策", 2),
            RelevantPassage("004.txt", "繼續做好“雙減”", 2),
            RelevantPassage("001.txt", "遵循教育规律", 1),
        ),
    )
    assert units_for(q, SIMP) == ["q1#0", "q1#2"]  # one chunk holding two labelled quotes
    assert units_for(q, TRAD) == ["q1#1"]
    assert units_for(q, FULLWIDTH) == ["chunk:001:11"]  # not relevant: stands for itself


def test_broken_labels_are_reported_with_the_reason():
    q = PolicyQuery(
        "q1",
        "双减",
        "topic",
        (
            RelevantPassage("001.txt", "严格落实“双减”政策", 2),
            RelevantPassage("001.txt", "严格落实“三减”政策", 2),  # typo: matches nothing
            RelevantPassage("009.txt", "双减", 1),  # no such file
        ),
    )
    broken = find_broken_labels([q], [TRAD, SIMP, FULLWIDTH])
    assert [(b.file, b.reason) for b in broken] == [
        ("001.txt", "quote not found in any chunk of the file"),
        ("009.txt", "file not in corpus"),
    ]
    assert "三减" in str(broken[0])
