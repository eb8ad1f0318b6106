"""Title normalisation for matching what people type against the catalogue.

MovieLens writes "Usual Suspects, The" and "Seven (Se7en)"; people type "the usual suspects", "se7en" or "Usual Suspect
(1995)". Both sides are reduced to one search key.
"""

from __future__ import annotations

import re
import unicodedata

ARTICLES = ("the", "a", "an", "le", "la", "les", "l'", "il", "el", "das", "der", "die", "los", "las")
_TRAILING_ARTICLE = re.compile(r"^(?P<body>.+), (?P<art>The|A|An|Le|La|Les|L'|Il|El|Das|Der|Die|Los|Las)$")
_BRACKETS = re.compile(r"\s*\(([^()]*)\)")
_YEAR = re.compile(r"\((?:18|19|20)\d\d\)|\[(?:18|19|20)\d\d\]")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_ARTICLE_WORDS = frozenset(a.rstrip("'") for a in ARTICLES)

# Frequent English words. A title made only of these ("Big", "The Game", "Good Morning", "Kids") is also
# ordinary speech, so a message must show it means the film (capitals, quotes, a year, a cue word); a title
# with another word ("Fargo", "Pulp Fiction") is matched on its own. General English, not the catalogue's words.
PLAIN_WORDS = frozenset("""
a about above across act action actually after again against age ago ahead air all almost alone along already
also always am among an and angel angels animal animals another answer any anyone anything anyway apart are area
arm army around arrival art as ask asked at august away baby back bad bag ball band bank bar base be bear beat
beautiful because become bed been before began begin behind being believe below best better between beyond big
bird birds black blood blue board boat body book born boss both bottom bound box boy boys brain brave break
bright bring broken brother brothers brought brown build building burn business busy but buy by call called came
camp can car card care careful carried carry case cat catch caught center century chance change chase check
child children choice city class clean clear close club cold color come comes coming company cool copy corner
could count country couple course cover crash crazy crime cross crow cry cure cut dad dance dark date daughter
day days dead deal dear death deep did die different dinner do doctor does dog dogs doing dollar done door doors
double down dream dreams dress drink drive driver drop drunk during each early earth east easy eat edge eight
either else empty end enemy enough even evening ever every everybody everyone everything evil exactly eye eyes
face faces fact fall fallen family famous fan far farm fast father favor fear feel feeling feet fell few field
fight figure fill final find fine fire firm first fish five fly follow food foot for force forever forget form
forward found four free fresh friday friend friends from front full fun funny game games garden gave get ghost
giant gift girl girls give glass go god goes going gold gone good got great green ground group grow guess gun
guy guys had hair half hall hand hands happen happy hard has hate have he head hear heard heart heat heaven
heavy held hell hello help her here hero high hill him his history hit hold hole holiday home honey hope horse
hot hotel hour hours house how human hundred hunt hunted hunter hurt husband i ice idea if in inside into is
island it its jack job join joy jump just keep kept key kid kids kill killer killing kind king kiss kitchen knew
know known lady lake land language large last late later laugh law lead learn least leave left leg less let
letter lie life light like line list listen little live lives living loaded local long look looking lose lost
lot loud love lover low luck lucky machine mad made magic mail main make man many mark market marriage married
mask master matter may maybe me mean meet member men middle might mile mind mine minute miss mister model moment
monday money monster month moon more morning most mother mountain mouth move movie movies mr mrs much murder
music must my name natural near need never new news next nice night nine no nobody none noon nor north not
nothing now nowhere number of off office often oh ok okay old on once one only open or order other others our
out outside over own page pain paper parent parents park part party pass past pay peace people perfect person
pick picture piece place plan plane play player please point police poor power present pretty price prince
princess private problem program promise pull push put queen question quick quiet rain ran reach read ready real
really reason red remember rest rich ride right ring river road rock room rule run running sad safe said same
saturday save saw say school sea season second secret see seen sell send sense serious set seven shadow shadows
shall she ship shoot shop short shot should show side sign silence simple since sing single sister sit six size
sky sleep slow small smile smoke snow so soft some somebody someone something sometimes son song soon sorry
sound south space speak special speed spirit spring stand star stars start state stay step still stop store
story strange stranger street strong student study stuff such summer sun sunday sure sweet table take taken
talk tall team tell ten than thank thanks that the their them then there these they thing things think third
this those though thought three through time tired to today together told tomorrow tonight too took top touch
town toy train tree trip trouble true trust truth try turn turning twelve twenty twisted two under until up upon
us use very voice wait wake walk wall want war warm was watch water way we wedding week weekend welcome well
went were west what when where which while white who whole why wife wild will win wind window winter wish with
without woman women wonder word words work world would write wrong yeah year years yes yesterday yet you young
your yours
absolute action adventure aliens animation assassin assassins bandit beast blade bride bullet bully
candidate captain chamber champion circus classic client comedy cop cops cowboy craft creature creep crew
documentary dragon drama escape fantasy fugitive gang gangster genius ghosts graduate guard hero heroes horror
hunters innocent invasion jungle knight legend magician mission monsters musical mystery naked original outlaw
pet pets phantom pilot pirate pirates priest professional rebel rescue revenge robot robots romance saint
scary secrets sequel shark soldier solo species spy stalker storm superhero superheroes survivor target
teacher thriller thrillers twilight underground vampire vampires villain warrior western witch witness wolf
zombie zombies
add based buddy fled homage panther quest sleepover underworld ha haha lol its thats theres whats hes shes lets
dont didnt cant wont isnt wasnt youre amateur apartment assignment associate bliss boot breakdown chamber client
confidential contact copycat craft daylight disclosure eraser faithful fearless funeral getaway hideaway hush
innocents invitation junior kissed loaded malice mighty mimic notorious outbreak piano picnic powder prophecy
ransom reckless relic restoration ripe roommates sleeper sleepers sneakers specialist speechless spellbound
sphere steel sting stripes substitute tainted thieves turbulence underneath unforgettable
visitors volcano
""".split())


def move_article_front(title: str) -> str:
    """Turn "Matrix, The" into "The Matrix"; leave other titles alone."""
    match = _TRAILING_ARTICLE.match(title.strip())
    if not match:
        return title.strip()
    article = match.group("art")
    joiner = "" if article.endswith("'") else " "
    return f"{article}{joiner}{match.group('body')}"


def split_title(raw: str) -> tuple[str, tuple[str, ...]]:
    """Split a MovieLens title into its display form and its bracketed aliases.

    "Horseman on the Roof, The (Hussard sur le toit, Le)" -> ("The Horseman on the Roof",
    ("Le Hussard sur le toit",)); a bracketed year is dropped, since the year is its own field.
    """
    without_year = _YEAR.sub("", raw).strip()
    aliases = tuple(
        move_article_front(alias.strip())
        for alias in _BRACKETS.findall(without_year)
        if alias.strip() and not alias.strip().lower().startswith("a.k.a")
    )
    main = _BRACKETS.sub("", without_year).strip()
    return move_article_front(main) or raw.strip(), aliases


def year_in_title(raw: str) -> int | None:
    """Return a year written in brackets inside a title, e.g. "(1995)", if any."""
    found = _YEAR.search(raw)
    return int(found.group(0)[1:-1]) if found else None


def key_words(text: str) -> list[str]:
    """Split a title into lowercase ASCII words, keeping every article (search_key drops the leading ones)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = _YEAR.sub(" ", move_article_front(text)).lower().replace("&", " and ").replace("'", "")
    return _NON_WORD.sub(" ", text).split()


def search_key(text: str) -> str:
    """Reduce a title or a typed mention to lowercase words without articles, accents, years or punctuation."""
    words = key_words(text)
    while words and words[0] in _ARTICLE_WORDS:
        words = words[1:]
    return " ".join(words)


def is_plain_word(word: str) -> bool:
    """Whether a lowercase word is ordinary English, so a title made of it needs evidence to be a title."""
    return word in PLAIN_WORDS or word.isdigit()
