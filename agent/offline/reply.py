"""Offline replies: short texts composed from the facts a node hands over, one template per reply kind."""

from __future__ import annotations

from ..schemas import ReplyRequest


def write_reply(request: ReplyRequest) -> str:
    """Compose the reply for one turn from its kind, titles and facts."""
    text = _compose(request)
    return "\n".join([*request.notes, text]) if request.notes else text


def _compose(request: ReplyRequest) -> str:
    facts = request.facts
    lines = [f"{i}. {title}" for i, title in enumerate(request.titles, start=1)]
    match request.kind:
        case "recommendations":
            intro = f"Here are {len(request.titles)} picks" + (f" ({'; '.join(facts)})" if facts else "") + ":"
            return "\n".join([intro, *lines, "Tell me if you've seen any, or what to change."])
        case "no_match":
            reason = f" {facts[0]}" if facts else ""
            return f"Nothing in the catalogue matches that.{reason} Try widening the years or genres."
        case "elicit":
            question = facts[0] if facts else "What kind of film are you in the mood for?"
            if not lines:
                return question
            return "\n".join([question, "Meanwhile, a few films people often recommend:", *lines])
        case "feedback":
            return "\n".join([" ".join(facts), *lines])
        case "item_answer" | "why":
            return " ".join(facts)
        case "unknown_item":
            return " ".join(facts)
        case "chitchat":
            return facts[0] if facts else _small_talk(request.message)
        case "out_of_scope":
            return ("I can only help with films: recommendations, questions about a title, or why I suggested "
                    "something. What would you like to watch?")
        case "invalid":
            return facts[0] if facts else "I didn't catch that. Could you rephrase?"


def _small_talk(message: str) -> str:
    lowered = message.lower()
    if any(word in lowered for word in ("thank", "thx", "cheers", "great", "awesome", "perfect")):
        return "You're welcome! Ask again whenever you want another film."
    if any(word in lowered for word in ("bye", "goodnight", "good night", "see you", "later")):
        return "Enjoy your film! Come back any time."
    if any(word in lowered for word in ("who are you", "what are you", "how does", "what can you", "help")):
        return ("I'm convrec, a film recommender over the MovieLens catalogue (1922-1998). Describe what you "
                "want (a genre, an era, a mood, a film you liked), push back on my picks, ask \u201cwhy #2?\u201d "
                "or \u201ctell me about Fargo\u201d.")
    return ("Hi! I recommend films from the MovieLens catalogue (1922-1998). Tell me what you feel like "
            "watching: a genre, an era, a mood, or a film you liked.")
