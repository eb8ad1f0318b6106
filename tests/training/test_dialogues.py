"""The packaged ReDial validation dialogues: they load, turns read as the evaluation cases write them, and held-out
conversations stay out."""

from __future__ import annotations

from convrec.training.dialogues import Dialogue, FilmAnswer, load_dialogues


def test_the_packaged_dialogues_load_and_hold_out_conversations() -> None:
    dialogues = load_dialogues()
    assert len(dialogues) == 1000
    assert len({d.conversation for d in dialogues}) == 1000
    kept = load_dialogues(exclude={"16162", "15266"})
    assert len(kept) == 998 and not {"16162", "15266"} & {d.conversation for d in kept}


def test_seeker_turns_are_written_like_the_cases() -> None:
    """valid_cases.jsonl's first case, 16162-2, holds exactly this first seeker turn."""
    dialogue = next(d for d in load_dialogues() if d.conversation == "16162")
    turns = dialogue.seeker_turns()
    assert turns[0].text == "Hi im looking for a good horroe movie like The Babadook (2014)"
    assert turns[0].movie_ids == ("135508",)
    assert dialogue.first_named_by_seeker("135508") and not dialogue.first_named_by_seeker("202190")
    assert dialogue.seeker_answers["135508"] == FilmAnswer(suggested=0, seen=1, liked=1)


def test_turns_join_consecutive_messages_and_collapse_name_spaces() -> None:
    dialogue = Dialogue(conversation="1", messages=((True, "hi"), (True, "like @7"), (False, "try @8 then"),
                                                    (True, "@9 ?")),
                        movies={"7": "The Shining  (1980)", "8": "Heat (1995)"}, seeker_answers={},
                        recommender_answers={})
    turns = dialogue.turns()
    assert [(t.seeker, t.text, t.movie_ids) for t in turns] == [
        (True, "hi like The Shining (1980)", ("7",)), (False, "try Heat (1995) then", ("8",)),
        (True, "@9 ?", ("9",))]  # a token with no name stays as written
