"""The dialogue acts: what a person wants from one chat turn.

Shared by the agent (which routes on them) and by training (whose intent classifier learns them from labelled
utterances), so they live here, below both.
"""

from __future__ import annotations

from typing import Literal, get_args

Intent = Literal["recommend", "more", "refine", "feedback", "item_question", "why", "goodbye", "chitchat",
                 "out_of_scope"]
"""What a person wants from one turn (the dialogue act):
- recommend: a new request (names what they want, or a film to go from); soft wishes of earlier requests reset;
- more: other films for the same request ("any others?");
- refine: change or add to the current request ("something lighter", "not from the 90s");
- feedback: a reaction to picks ("seen #2", "I loved it!", "never heard of that one", "all great choices");
- item_question: a question about one film ("tell me about Fargo", "is it any good?");
- why: why a pick was made;
- goodbye: thanks and closing ("thanks, bye");
- chitchat: greetings and small talk with no wish in it;
- out_of_scope: anything that is not about films.
recommend, more, refine and feedback are answered with films; the others are not.
"""
INTENTS: tuple[str, ...] = get_args(Intent)
RECOMMENDING_INTENTS = frozenset({"recommend", "more", "refine", "feedback"})
