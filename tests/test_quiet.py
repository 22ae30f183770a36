"""Third-party warnings that say nothing to a user are filtered; others still show."""

from __future__ import annotations

import warnings

from assistant.quiet import silence_third_party_warnings


def test_starlettes_renamed_status_codes_are_not_reported_but_other_warnings_are():
    from starlette import status

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert status.HTTP_422_UNPROCESSABLE_ENTITY == 422  # what Gradio reads per request
        assert any("is deprecated" in str(w.message) for w in seen)  # the noise exists …
        seen.clear()
        silence_third_party_warnings()
        assert status.HTTP_422_UNPROCESSABLE_ENTITY == 422
        assert seen == []  # … and is gone
        warnings.warn("something else", UserWarning, stacklevel=1)
        assert [str(w.message) for w in seen] == ["something else"]
