"""A tiny MovieLens-shaped dataset written as RecBole atomic files, with signal known by construction.

Two taste groups: users 1-10 watch sci-fi/action, users 11-20 watch comedy/romance; each user's last item
by time is the next one of their group's films in a fixed order, so a personal ranker can be checked.
"""

from __future__ import annotations

from pathlib import Path

ITEMS: list[tuple[int, str, str, str]] = [
    (1, "Star Wars", "1977", "Action Adventure Sci-Fi"),
    (2, "Alien", "1979", "Horror Sci-Fi Thriller"),
    (3, "Blade Runner", "1982", "Film-Noir Sci-Fi"),
    (4, "Terminator, The", "1984", "Action Sci-Fi Thriller"),
    (5, "Twelve Monkeys", "1995", "Drama Sci-Fi"),
    (6, "Contact", "1997", "Drama Sci-Fi"),
    (7, "Heat", "1995", "Action Crime Thriller"),
    (8, "Fargo", "1996", "Crime Drama Thriller"),
    (9, "Usual Suspects, The", "1995", "Crime Thriller"),
    (10, "Scream", "1996", "Horror Thriller"),
    (11, "Clueless", "1995", "Comedy Romance"),
    (12, "Groundhog Day", "1993", "Comedy Romance"),
    (13, "Sense and Sensibility", "1995", "Drama Romance"),
    (14, "Annie Hall", "1977", "Comedy Romance"),
    (15, "Birdcage, The", "1996", "Comedy"),
    (16, "Toy Story", "1995", "Animation Children's Comedy"),
    (17, "Casablanca", "1942", "Drama Romance War"),
    (18, "Seven (Se7en)", "1995", "Crime Thriller"),
    (19, "Apollo 13", "1995", "Action Drama Thriller"),
    (20, "Shining, The", "1980", "Horror"),
    (21, "unkonwn", "unkonwn", "unknown"),
    (22, "Land Before Time III: The Time of the Great Giving (1995)", "V", "Animation Children's"),
]
SCIFI_ORDER = [1, 2, 3, 4, 5, 6, 7, 19]
COMEDY_ORDER = [11, 12, 14, 15, 16, 13, 17, 22]


def interactions() -> list[tuple[int, int, int, int]]:
    """(user, item, rating, timestamp) rows: each user watches a prefix of their group's order."""
    rows = []
    for user in range(1, 21):
        order = SCIFI_ORDER if user <= 10 else COMEDY_ORDER
        length = 4 + (user % 4)
        for step, item in enumerate(order[:length]):
            rows.append((user, item, 4 + (step % 2), 880000000 + user * 1000 + step * 10))
        rows.append((user, 8 if user % 2 else 9, 3, 880000000 + user * 1000 + 5))  # shared noise item
    return rows


def write_dataset(folder: Path) -> Path:
    """Write ml-100k.{inter,item,user,kg,link} for the fixture into `folder` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    inter = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    inter += [f"{u}\t{i}\t{r}\t{t}" for u, i, r, t in interactions()]
    item = ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"]
    item += [f"{i}\t{t}\t{y}\t{g}" for i, t, y, g in ITEMS]
    occupations = ["engineer", "student", "writer", "artist", "doctor"]
    user = ["user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token"]
    user += [f"{u}\t{18 + u}\t{'F' if u % 3 == 0 else 'M'}\t{occupations[u % 5]}\t0000{u}" for u in range(1, 21)]
    # Heat (7) and Seven (18) share a director entity; Alien (2) has a sequel edge to Aliens-like item 20
    kg = ["head_id:token\trelation_id:token\ttail_id:token",
          "m.heat\tfilm.film.directed_by\tm.dir1", "m.seven\tfilm.film.directed_by\tm.dir1",
          "m.heat\tfilm.film.actor\tm.act1", "m.seven\tfilm.film.actor\tm.act1",
          "m.heat\tfilm.film.actor\tm.act2", "m.seven\tfilm.film.actor\tm.act2",
          "m.alien\tfilm.film.sequel\tm.shining"]
    link = ["item_id:token\tentity_id:token", "7\tm.heat", "18\tm.seven", "2\tm.alien", "20\tm.shining"]
    for ext, lines in {"inter": inter, "item": item, "user": user, "kg": kg, "link": link}.items():
        (folder / f"ml-100k.{ext}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder
