"""The catalogue over the tiny fixture: parsing quirks, histories, statistics and title search."""

from pathlib import Path

import pytest

from convrec.core.catalogue import Catalogue, age_band
from convrec.core.dataset import read_tables
from convrec.core.errors import UserError


def test_items_parse_quirks(tiny_catalogue: Catalogue) -> None:
    assert 21 not in tiny_catalogue.items  # the `unkonwn` placeholder row is dropped
    assert tiny_catalogue.items[22].year == 1995  # year "V" recovered from the bracketed title
    assert tiny_catalogue.items[9].title == "The Usual Suspects"
    assert tiny_catalogue.items[18].aliases == ("Se7en",)
    assert tiny_catalogue.items[16].genres == ("Animation", "Children's", "Comedy")
    assert tiny_catalogue.year_range == (1942, 1997)


def test_history_is_time_ordered(tiny_catalogue: Catalogue) -> None:
    history = tiny_catalogue.history(1)
    assert list(history["timestamp"]) == sorted(history["timestamp"])
    # user 1 watches SCIFI_ORDER[:5] and the noise item 8 at step 0.5
    assert list(history["item_id"]) == [1, 8, 2, 3, 4, 5]
    assert tiny_catalogue.history(999).empty


def test_popularity_and_audience(tiny_catalogue: Catalogue) -> None:
    assert int(tiny_catalogue.popularity[1]) == 10  # every sci-fi user starts with Star Wars
    assert int(tiny_catalogue.popularity[20]) == 0
    audience = tiny_catalogue.audiences[1]
    assert audience.n_ratings == 10
    assert audience.mean_rating == pytest.approx(4.0)
    assert 20 not in tiny_catalogue.audiences
    assert age_band(30) == "25-34" and age_band(60) == "55+"


@pytest.mark.parametrize(
    ("query", "expected"),
    [("usual suspects", 9), ("Usual Suspects, The", 9), ("the usual suspect (1995)", 9), ("fargoo", 8),
     ("TWELVE MONKEYS", 5), ("se7en", 18), ("Blade Runer", 3)],
)
def test_find_title_tolerates_case_articles_years_typos(tiny_catalogue: Catalogue, query: str, expected: int) -> None:
    assert tiny_catalogue.find_title(query)[0].item_id == expected


def test_find_title_rejects_unknown_and_contradicting_year(tiny_catalogue: Catalogue) -> None:
    assert tiny_catalogue.find_title("Casper the friendly ghost") == []
    assert tiny_catalogue.find_title("Blade Runner 2049") == []


def test_titles_in_text(tiny_catalogue: Catalogue) -> None:
    found = tiny_catalogue.find_titles_in_text("something like Heat, but I've seen Fargo")
    assert [m.item_id for m in found] == [7, 8]
    # a one-word title needs a cue or a capital: "contact" as a plain word is not the film
    assert tiny_catalogue.find_titles_in_text("please contact me about a comedy") == []
    assert [m.item_id for m in tiny_catalogue.find_titles_in_text("tell me about fargoo")] == [8]
    assert tiny_catalogue.find_titles_in_text("tell me about Blade Runner 2049") == []


def test_knowledge_links(tiny_catalogue: Catalogue) -> None:
    links = tiny_catalogue.knowledge.links(7)
    assert links[0].kind == "director" and links[0].other_item_id == 18
    assert links[0].phrase("Seven") == "shares a director with Seven"
    cast = [lk for lk in links if lk.kind == "cast member"]
    assert cast[0].count == 2 and cast[0].phrase("Seven") == "shares 2 cast members with Seven"


def _write(folder: Path, ext: str, text: str) -> None:
    (folder / f"ml-100k.{ext}").write_text(text, encoding="utf-8")


def test_rated_together_is_shrunk_cosine_over_raters(tiny_catalogue: Catalogue) -> None:
    together = tiny_catalogue.rated_together
    # Star Wars' 10 raters also rated Alien, Blade Runner and The Terminator: 10 / (sqrt(10*10) + 20) = 0.333;
    # Twelve Monkeys shares 8 of its 8: 8 / (sqrt(80) + 20) = 0.276; Contact 5 of 5: 5 / (sqrt(50) + 20) = 0.185;
    # Fargo and The Usual Suspects 5 of 10: 0.167. Heat shares only 2. Ties keep catalogue order.
    assert together[1] == (2, 3, 4, 5, 6, 8, 9)
    # Fargo's 10 raters are the odd users of both groups: Toy Story 5 of 7 (0.176) beats Twelve Monkeys
    # 5 of 8 (0.173), then eight films at 5 of 10 (0.167) fill the 10 places ahead of Casablanca (3 of 3: 0.118).
    assert together[8] == (16, 5, 1, 2, 3, 4, 11, 12, 14, 15)
    # Heat has 2 raters: no pair reaches the 3 shared raters a fact needs.
    assert 7 not in together and all(7 not in others for others in together.values())
    assert all(len(others) <= 10 and item not in others for item, others in together.items())


def test_missing_file_names_the_file(tiny_dataset_dir: Path, tmp_path: Path) -> None:
    for ext in ("inter", "item", "user", "kg"):
        (tmp_path / f"ml-100k.{ext}").write_bytes((tiny_dataset_dir / f"ml-100k.{ext}").read_bytes())
    with pytest.raises(UserError, match=r"ml-100k\.link: file not found"):
        read_tables(tmp_path)


def test_malformed_files_give_one_line_errors(tiny_dataset_dir: Path, tmp_path: Path) -> None:
    for ext in ("inter", "item", "user", "kg", "link"):
        (tmp_path / f"ml-100k.{ext}").write_bytes((tiny_dataset_dir / f"ml-100k.{ext}").read_bytes())
    _write(tmp_path, "inter", "user_id:token\titem_id:token\trating:float\n1\t2\t3\n")
    with pytest.raises(UserError, match=r"ml-100k\.inter: missing column\(s\) timestamp"):
        read_tables(tmp_path)
    _write(tmp_path, "inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t2\t3\t5\nx\t2\t3\t6\n")
    with pytest.raises(UserError, match=r"line 3: user_id is not a number"):
        read_tables(tmp_path)
    _write(tmp_path, "inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t999\t3\t5\n")
    with pytest.raises(UserError, match=r"1 item ids have no row in ml-100k.item"):
        read_tables(tmp_path)
    _write(tmp_path, "inter", "")
    with pytest.raises(UserError, match=r"ml-100k\.inter: not a tab-separated atomic file"):
        read_tables(tmp_path)
