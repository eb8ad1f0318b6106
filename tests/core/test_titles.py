"""Title normalisation: MovieLens' "Usual Suspects, The" and what people type reduce to one key."""

from convrec.core.titles import move_article_front, search_key, split_title, year_in_title


def test_article_moves_to_front() -> None:
    assert move_article_front("Usual Suspects, The") == "The Usual Suspects"
    assert move_article_front("Heat") == "Heat"


def test_split_title_keeps_aliases_and_drops_year() -> None:
    assert split_title("Seven (Se7en)") == ("Seven", ("Se7en",))
    assert split_title("Horseman on the Roof, The (Hussard sur le toit, Le)") == (
        "The Horseman on the Roof", ("Le Hussard sur le toit",))
    assert split_title("Land Before Time III: The Time of the Great Giving (1995)")[0] == (
        "Land Before Time III: The Time of the Great Giving")


def test_search_key_ignores_case_articles_years_and_punctuation() -> None:
    assert search_key("Matrix, The") == search_key("the matrix (1999)") == "matrix"
    assert search_key("Schindler's List") == "schindlers list"
    assert year_in_title("Heat (1995)") == 1995
    assert year_in_title("Heat") is None
