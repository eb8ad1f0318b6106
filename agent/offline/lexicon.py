"""Catalogue lexicons for the offline path: genre words, mood words and the genres they lean towards.

A mood is soft (it reorders); a genre named outright is hard (it filters). Mood-to-genre maps are kept
here, in one place, so that explanations can quote the same mapping that ranked the item.
"""

from __future__ import annotations

# phrase (lowercase, as typed) -> MovieLens genre; longer phrases are matched first
GENRE_WORDS: dict[str, tuple[str, ...]] = {
    "action": ("Action",), "action movie": ("Action",), "actioner": ("Action",),
    "adventure": ("Adventure",), "adventures": ("Adventure",),
    "animation": ("Animation",), "animated": ("Animation",), "cartoon": ("Animation",), "cartoons": ("Animation",),
    "kids": ("Children's",), "children": ("Children's",), "childrens": ("Children's",), "family": ("Children's",),
    "comedy": ("Comedy",), "comedies": ("Comedy",), "sitcom": ("Comedy",),
    "crime": ("Crime",), "heist": ("Crime",), "gangster": ("Crime",), "gangsters": ("Crime",), "mob": ("Crime",),
    "documentary": ("Documentary",), "documentaries": ("Documentary",), "docs": ("Documentary",),
    "drama": ("Drama",), "dramas": ("Drama",),
    "fantasy": ("Fantasy",),
    "film noir": ("Film-Noir",), "film-noir": ("Film-Noir",), "noir": ("Film-Noir",),
    "horror": ("Horror",), "horrors": ("Horror",), "slasher": ("Horror",),
    "musical": ("Musical",), "musicals": ("Musical",),
    "mystery": ("Mystery",), "mysteries": ("Mystery",), "whodunit": ("Mystery",), "detective": ("Mystery",),
    "romance": ("Romance",), "romances": ("Romance",), "romantic comedy": ("Comedy", "Romance"),
    "rom-com": ("Comedy", "Romance"), "romcom": ("Comedy", "Romance"), "love story": ("Romance",),
    "sci-fi": ("Sci-Fi",), "scifi": ("Sci-Fi",), "sci fi": ("Sci-Fi",), "science fiction": ("Sci-Fi",),
    "science-fiction": ("Sci-Fi",), "sf": ("Sci-Fi",),
    "thriller": ("Thriller",), "thrillers": ("Thriller",),
    "war": ("War",), "war movie": ("War",), "war film": ("War",),
    "western": ("Western",), "westerns": ("Western",), "cowboy": ("Western",), "cowboys": ("Western",),
}

# mood word -> (mood name, genres it favours, genres it avoids)
MOODS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
_MOOD_GROUPS: list[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
    ("light", ("light", "lighter", "lighthearted", "light-hearted", "fun", "funny", "funnier", "feel-good",
               "feel good", "uplifting", "happy", "cheerful", "silly", "easy", "easygoing", "upbeat", "laugh",
               "hilarious", "cheery", "wholesome"),
     ("Comedy", "Children's", "Animation", "Musical", "Romance"),
     ("Horror", "War", "Crime", "Thriller", "Film-Noir")),
    ("dark", ("dark", "darker", "gritty", "grittier", "bleak", "disturbing", "twisted", "edgy", "grim"),
     ("Crime", "Thriller", "Film-Noir", "Horror", "Drama"), ("Children's", "Musical", "Animation")),
    ("smart", ("smart", "clever", "intelligent", "thought-provoking", "thought provoking", "cerebral",
               "brainy", "mind-bending", "mind bending", "intellectual", "deep", "philosophical"),
     ("Drama", "Mystery", "Sci-Fi", "Film-Noir", "Documentary"), ("Children's",)),
    ("scary", ("scary", "scarier", "spooky", "creepy", "frightening", "terrifying", "chilling"),
     ("Horror", "Thriller"), ("Children's", "Musical")),
    ("exciting", ("exciting", "thrilling", "action-packed", "action packed", "intense", "adrenaline",
                  "fast-paced", "fast paced", "gripping", "suspenseful", "explosive"),
     ("Action", "Thriller", "Adventure"), ("Documentary", "Musical")),
    ("violent", ("violent", "violence", "gory", "gore", "bloody", "brutal"),
     ("Action", "Crime", "War", "Horror", "Thriller"), ("Children's",)),
    ("moving", ("sad", "tearjerker", "tear-jerker", "moving", "emotional", "touching", "heartfelt",
                "heartwarming", "heart-warming", "poignant", "cry"),
     ("Drama", "Romance"), ()),
    ("romantic", ("romantic", "date night", "date-night", "love"), ("Romance",), ("Horror", "War")),
]
for _mood, _words, _boost, _avoid in _MOOD_GROUPS:
    for _word in _words:
        MOODS[_word] = (_mood, _boost, _avoid)

MOOD_BOOSTS: dict[str, tuple[str, ...]] = {m: b for m, _, b, _ in _MOOD_GROUPS}
MOOD_AVOIDS: dict[str, tuple[str, ...]] = {m: a for m, _, _, a in _MOOD_GROUPS}

NEGATIONS = ("no", "not", "nothing", "without", "except", "avoid", "never", "dont", "don't", "hate",
             "no more", "anything but", "none", "skip", "too", "less", "fewer", "exclude", "excluding",
             "minus", "isn't", "isnt", "aren't", "arent", "nor", "non")

SURPRISE_WORDS = ("surprise me", "anything", "whatever", "dealer's choice", "you choose", "you pick",
                  "up to you", "doesn't matter", "dont care", "don't care", "any film", "any movie",
                  "just recommend", "just pick", "no preference", "i don't know", "idk", "not sure")

STOPWORDS = frozenset("""
a an the and or but if of to in on at for with about from by as is are was were be been being am i me my we
you your it its this that these those some something anything any film films movie movies watch watching
see seen want wanted would like love liked loved please can could should recommend recommendation
recommendations suggest give show tell find get pick need looking look for tonight today now one ones good
great best nice kind sort type really very too much more less bit little maybe also just what which who how
why when where there here them they he she his her do does did done have has had not no nothing without
me myself let lets let's ok okay so then than else other another thing stuff
released release after before between early late mid first second third fourth fifth last all hated older
newer since from era decade year years old new recent classic seen saw watched already until till hey
thanks thank hi hello same similar different instead rather prefer preferably only still yet ones something
somewhere somehow anyone everyone
""".split())
