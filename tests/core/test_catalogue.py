"""The catalogue over the tiny fixture: parsing quirks, histories, statistics and title search."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from convrec.core.catalogue import Audience, Catalogue, age_band, binomial_tail
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


def _catalogue_with(tiny_catalogue: Catalogue, rows: list[tuple[int, int, float]]) -> Catalogue:
    """The tiny fixture's films and users with only these (user, item, rating) rows."""
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "rating"])
    frame["timestamp"] = np.arange(len(rows), dtype=np.int64)
    return Catalogue(items=tiny_catalogue.items, users=tiny_catalogue.users, interactions=frame,
                     knowledge=tiny_catalogue.knowledge)


def test_shrunk_rating_pulls_a_few_ratings_to_the_global_mean(tiny_catalogue: Catalogue) -> None:
    # Star Wars: two ratings of 5; Fargo: eight ratings of 3. Global mean (10 + 24) / 10 = 3.4.
    catalogue = _catalogue_with(tiny_catalogue, [(1, 1, 5.0), (2, 1, 5.0)] + [(u, 8, 3.0) for u in range(1, 9)])
    assert catalogue.global_mean_rating == pytest.approx(3.4)
    shrunk = catalogue.shrunk_rating(10.0)
    assert shrunk[1] == pytest.approx((2 * 5.0 + 10 * 3.4) / (2 + 10))  # 3.667, not 5.0
    assert shrunk[8] == pytest.approx((8 * 3.0 + 10 * 3.4) / (8 + 10))  # 3.222
    assert shrunk[20] == pytest.approx(3.4)  # nobody rated it: the global mean
    assert catalogue.shrunk_rating(0.0)[1] == pytest.approx(5.0)  # k = 0: the raw mean
    assert catalogue.shrunk_rating(10.0) is shrunk  # cached per weight


def test_rated_fewer_than_is_the_evidence_floor(tiny_catalogue: Catalogue) -> None:
    # Counts: Twelve Monkeys 8, Contact 5, Heat 2, Sense and Sensibility 5, Toy Story 7, Casablanca 3, and five
    # films nobody rated; every other film has 10.
    assert tiny_catalogue.rated_fewer_than(10) == {5, 6, 7, 10, 13, 16, 17, 18, 19, 20, 22}
    assert tiny_catalogue.rated_fewer_than(3) == {7, 10, 18, 19, 20, 22}
    assert tiny_catalogue.rated_fewer_than(0) == frozenset()


def test_genre_share_counts_films_carrying_every_genre(tiny_catalogue: Catalogue) -> None:
    # 21 films: 6 Drama, 1 Film-Noir, 2 both Drama and Sci-Fi (Twelve Monkeys, Contact).
    assert tiny_catalogue.genre_share(["Drama"]) == pytest.approx(6 / 21)
    assert tiny_catalogue.genre_share(["Film-Noir"]) == pytest.approx(1 / 21)
    assert tiny_catalogue.genre_share(["Sci-Fi", "Drama"]) == pytest.approx(2 / 21)
    assert tiny_catalogue.genre_share([]) == 1.0


def test_binomial_tail_is_exact() -> None:
    assert binomial_tail(1, 2, 0.025) == pytest.approx(1 - 0.975**2)  # 0.049
    assert binomial_tail(6, 10, 0.3) == pytest.approx(0.047349, abs=1e-6)
    assert binomial_tail(0, 5, 0.3) == 1.0 and binomial_tail(3, 3, 0.5) == pytest.approx(0.125)


def test_audience_names_an_age_band_only_when_it_stands_out(tiny_catalogue: Catalogue) -> None:
    # Users 1-6 are 19-24 and give 39 of the 130 ratings (0.30); Star Wars' 10 raters are users 1-10, 6 of them
    # 18-24: a share of 0.6, lift 2.0, but an average film draws 6 or more of 10 from that band with p = 0.047.
    star_wars = tiny_catalogue.audiences[1]
    assert star_wars.top_age_band == "18-24"
    assert star_wars.top_age_band_share == pytest.approx(0.6)
    assert star_wars.age_band_base_share == pytest.approx(39 / 130)
    assert star_wars.age_band_lift == pytest.approx(2.0)
    assert not star_wars.age_band_stands_out
    # Twice the evidence is no chance: 60 of 100 raters from a band of 0.3 (p < 1e-8).
    assert dataclasses.replace(star_wars, n_ratings=100).age_band_stands_out
    # Fargo's raters are the odd users of both groups: 5 of its 10 are 25-34, the band of 65 of the 130 ratings.
    fargo = tiny_catalogue.audiences[8]
    assert fargo.top_age_band == "25-34" and fargo.age_band_lift == pytest.approx(1.0)
    assert not fargo.age_band_stands_out
    # The same band at the catalogue's own share says nothing, and so does a high lift from 3 raters.
    average = Audience(400, 3.5, "25-34", ("retired",), 0.3, top_age_band_share=0.354, age_band_base_share=0.354)
    assert average.age_band_lift == pytest.approx(1.0) and not average.age_band_stands_out
    few = Audience(3, 3.5, "55+", (), 0.3, top_age_band_share=2 / 3, age_band_base_share=0.35)
    assert few.age_band_lift > 1.9 and not few.age_band_stands_out  # p = 0.28
    # The Visitors: one of its two raters is under 18, 20 times that band's share, and chance (p = 0.049).
    visitors = Audience(2, 3.5, "under 18", (), 0.5, top_age_band_share=0.5, age_band_base_share=0.025)
    assert visitors.age_band_lift == pytest.approx(20.0) and not visitors.age_band_stands_out


def test_audience_names_only_occupations_clearly_above_average() -> None:
    mixed = Audience(300, 3.9, "25-34", ("scientist", "writer"), 0.3, top_occupation_lifts=(1.6, 1.1))
    assert mixed.distinct_occupations == ("scientist",)
    unmeasured = Audience(12, 4.2, "55+", ("retired", "salesman"), 0.5)
    assert unmeasured.distinct_occupations == ("retired", "salesman")
