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
    "kids": ("Children's",), "children": ("Children's",), "childrens": ("Children's",), "children's": ("Children's",),
    "family": ("Children's",), "kiddie": ("Children's",), "kiddy": ("Children's",), "kid-friendly": ("Children's",),
    "kid friendly": ("Children's",),
    "comedy": ("Comedy",), "comedies": ("Comedy",), "sitcom": ("Comedy",),
    "crime": ("Crime",), "heist": ("Crime",), "gangster": ("Crime",), "gangsters": ("Crime",), "mob": ("Crime",),
    "documentary": ("Documentary",), "documentaries": ("Documentary",), "docs": ("Documentary",),
    "drama": ("Drama",), "dramas": ("Drama",),
    "fantasy": ("Fantasy",),
    "film noir": ("Film-Noir",), "film-noir": ("Film-Noir",), "noir": ("Film-Noir",),
    "horror": ("Horror",), "horrors": ("Horror",), "slasher": ("Horror",),
    "musical": ("Musical",), "musicals": ("Musical",),
    "mystery": ("Mystery",), "mysteries": ("Mystery",), "whodunit": ("Mystery",), "detective": ("Mystery",),
    "romance": ("Romance",), "romances": ("Romance",), "romantics": ("Romance",),
    "romantic comedy": ("Comedy", "Romance"),
    "romantic comedies": ("Comedy", "Romance"), "rom-com": ("Comedy", "Romance"), "rom-coms": ("Comedy", "Romance"),
    "romcom": ("Comedy", "Romance"), "romcoms": ("Comedy", "Romance"), "rom com": ("Comedy", "Romance"),
    "rom coms": ("Comedy", "Romance"), "love story": ("Romance",), "love stories": ("Romance",),
    "chick flick": ("Romance",), "chick flicks": ("Romance",),
    "sci-fi": ("Sci-Fi",), "scifi": ("Sci-Fi",), "sci fi": ("Sci-Fi",), "science fiction": ("Sci-Fi",),
    "science-fiction": ("Sci-Fi",), "sf": ("Sci-Fi",), "syfy": ("Sci-Fi",), "sci-fy": ("Sci-Fi",),
    "scify": ("Sci-Fi",), "sci fy": ("Sci-Fi",),
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
                  "fast-paced", "fast paced", "gripping", "suspenseful", "suspense", "explosive", "tense"),
     ("Action", "Thriller", "Adventure"), ("Documentary", "Musical")),
    ("violent", ("violent", "violence", "gory", "gore", "bloody", "brutal"),
     ("Action", "Crime", "War", "Horror", "Thriller"), ("Children's",)),
    ("moving", ("sad", "tearjerker", "tear-jerker", "moving", "emotional", "touching", "heartfelt",
                "heartwarming", "heart-warming", "poignant", "cry"),
     ("Drama", "Romance"), ()),
    ("romantic", ("romantic", "date night", "date-night", "in love"), ("Romance",), ("Horror", "War")),
]
for _mood, _words, _boost, _avoid in _MOOD_GROUPS:
    for _word in _words:
        MOODS[_word] = (_mood, _boost, _avoid)

MOOD_BOOSTS: dict[str, tuple[str, ...]] = {m: b for m, _, b, _ in _MOOD_GROUPS}
MOOD_AVOIDS: dict[str, tuple[str, ...]] = {m: a for m, _, _, a in _MOOD_GROUPS}

# Era words: phrase -> (mood when wanted, mood when negated: "not too old" wants recent films). "older" and
# "newer" are relative to the previous picks; "classic" and "recent" lean on the release year.
ERA_WORDS: dict[str, tuple[str, str]] = {
    "old": ("classic", "recent"), "older": ("older", "newer"), "earlier": ("older", "newer"),
    "classic": ("classic", "recent"), "classics": ("classic", "recent"), "old school": ("classic", "recent"),
    "old-school": ("classic", "recent"), "oldies": ("classic", "recent"),
    "new": ("recent", "classic"), "newer": ("newer", "older"), "more recent": ("newer", "older"),
    "recent": ("recent", "classic"),
}

# A negation cue and how many words may stand between it and the genre, mood or era it rules out:
# "not really a big fan of sci-fi" needs five, "no more horror" one.
NEGATION_CUES: dict[str, int] = {
    "no": 3, "nothing": 3, "none": 3, "without": 3, "except": 3, "excluding": 3, "exclude": 3, "minus": 2,
    "avoid": 3, "skip": 3, "nor": 3, "neither": 3, "hate": 3, "hated": 3, "hates": 3, "dislike": 3,
    "disliked": 3, "too": 1, "overly": 1, "less": 1, "fewer": 2, "non": 1,
    "not": 5, "never": 5, "dont": 5, "don't": 5, "doesn't": 5, "doesnt": 5, "didn't": 5, "didnt": 5,
    "isn't": 5, "isnt": 5, "aren't": 5, "arent": 5, "wasn't": 5, "wasnt": 5, "won't": 5, "wont": 5,
    "wouldn't": 5, "wouldnt": 5, "can't": 5, "cant": 5, "cannot": 5, "couldn't": 5, "shouldn't": 5,
    "other than": 3, "rather than": 3, "instead of": 3, "sick of": 3, "tired of": 3, "fed up with": 3,
    "stay away from": 3, "steer clear of": 3, "pass on": 2,
}
NEGATIONS = tuple(NEGATION_CUES) + ("anything but",)

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
