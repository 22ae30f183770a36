"""Answer outcomes summarized per split and kind (the report of `assistant eval --answers`)."""

from assistant.evaluation.outcomes import OutcomeRow, render_outcomes, summarize


def row(qid: str, split: str, kind: str, outcome: str, cites: bool | None = None) -> OutcomeRow:
    return OutcomeRow(qid, split, kind, "问题", outcome, 0.5, {}, cites)


def test_accuracy_is_answered_for_answerable_and_refused_for_the_rest():
    rows = [
        row("a1", "dev", "answerable", "answered", True),
        row("a2", "dev", "answerable", "related", True),
        row("a3", "dev", "answerable", "related", False),
        row("n1", "dev", "near_miss", "related"),
        row("n2", "dev", "near_miss", "answered"),
        row("o1", "dev", "off_topic", "not_covered"),
        row("t1", "test", "answerable", "answered", False),
    ]
    by = {(s.split, s.kind): s for s in summarize(rows)}
    answerable = by["dev", "answerable"]
    assert answerable.accuracy == 1 / 3 and (answerable.cites_label, answerable.checked) == (1, 1)
    assert (answerable.related_shows_label, answerable.related_checked) == (1, 2)
    assert by["dev", "near_miss"].accuracy == 0.5
    assert by["dev", "off_topic"].accuracy == 1.0
    unanswerable = by["dev", "unanswerable"]
    assert unanswerable.n == 3 and unanswerable.counts == {
        "answered": 1, "related": 1, "not_covered": 1
    }  # fmt: skip
    assert by["test", "answerable"].accuracy == 1.0 and by["test", "answerable"].cites_label == 0
    assert row("x", "dev", "near_miss", "related").correct  # refused, with provisions shown
    assert not row("x", "dev", "near_miss", "answered").correct
    assert not row("x", "dev", "answerable", "related").correct


def test_report_has_one_line_per_split_and_kind():
    rows = [
        row("a", "dev", "answerable", "answered", True),
        row("b", "dev", "answerable", "related", False),
    ]
    text = render_outcomes(summarize(rows), "t")
    cited, shown = "1 (a labelled passage cited: 1)", "1 (a labelled passage shown: 0)"
    assert f"| dev | answerable | 2 | {cited} | {shown} | 0 | 50.0% answered |" in text


def test_without_citation_checks_the_report_says_nothing_about_them():
    text = render_outcomes(summarize([row("a", "dev", "answerable", "answered")]))
    assert "| dev | answerable | 1 | 1 | 0 | 0 | 100.0% answered |" in text
