"""UI helpers that need no browser: card rendering escapes data, the user picker parses ids."""

import pytest

from convrec.agent.service import Recommendation
from convrec.core.errors import UserError
from convrec.ui.app import ANONYMOUS, card_markdown, parse_user


def test_card_markdown_escapes_titles_and_reasons() -> None:
    card = Recommendation(item_id=1, title="<script>x</script>", year=1995, genres=["Drama"],
                          reasons=["Rated 4.0/5 by 10 <b>users</b>."])
    rendered = card_markdown(2, card)
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert rendered.startswith("<h3>#2 &lt;script&gt;x&lt;/script&gt; (1995)</h3>")
    assert "&lt;b&gt;users&lt;/b&gt;" in rendered


def test_parse_user() -> None:
    assert parse_user(ANONYMOUS) is None and parse_user(None) is None
    assert parse_user("42") == 42
    with pytest.raises(UserError):
        parse_user("forty-two")
