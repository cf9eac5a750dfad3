"""One tap to rate after the callback, then an optional comment.

A callback that reached WeChat as a template message has no buttons: the owner answers
in words ("非常满意", "not satisfied"), which count as the tap when one of her tickets
waits for its rating.
"""

from __future__ import annotations

import re
from functools import cache

from backend import ratings
from backend.actors import BOT, Actor
from backend.errors import DomainError
from backend.i18n import LANGUAGES, t
from backend.models import Rating, Ticket
from backend.notices import RATING_SCORES
from bot.dialogs.context import Turn

# Whole answers only: "满意" is a rating, "我对维修不满意，因为……" is something to read;
# and no "ok" or "good", which answer anything.
_WORDS: dict[int, tuple[str, ...]] = {
    5: (
        "非常满意",
        "很满意",
        "特别满意",
        "十分满意",
        "超级满意",
        "五星",
        "5星",
        "5分",
        "五分",
        "满分",
        "very satisfied",
        "extremely satisfied",
        "excellent",
        "perfect",
        "5 stars",
        "5/5",
    ),
    4: (
        "满意",
        "挺满意",
        "比较满意",
        "还满意",
        "蛮满意",
        "四星",
        "4星",
        "4分",
        "四分",
        "satisfied",
        "quite satisfied",
        "4 stars",
        "4/5",
    ),
    3: (
        "一般",
        "还行",
        "还可以",
        "凑合",
        "一般般",
        "三星",
        "3星",
        "3分",
        "三分",
        "neutral",
        "so so",
        "so-so",
        "average",
        "3 stars",
        "3/5",
    ),
    2: (
        "不满意",
        "不太满意",
        "不怎么满意",
        "二星",
        "2星",
        "2分",
        "两分",
        "dissatisfied",
        "not satisfied",
        "unsatisfied",
        "not happy",
        "2 stars",
        "2/5",
    ),
    1: (
        "非常不满意",
        "很不满意",
        "特别不满意",
        "十分不满意",
        "太差了",
        "很差",
        "非常差",
        "一星",
        "1星",
        "1分",
        "一分",
        "very dissatisfied",
        "very unsatisfied",
        "very bad",
        "terrible",
        "awful",
        "1 star",
        "1/5",
    ),
}
_NOISE = re.compile(r"[\s。.!！,，~～、:：😄🙂😐🙁😞]+")


def _key(text: str) -> str:
    return _NOISE.sub("", text.lower()).rstrip("吧啊呀的了哈啦呢")


@cache
def _score_of_words() -> dict[str, int]:
    table = {_key(word): score for score, words in _WORDS.items() for word in words}
    for lang in LANGUAGES:  # the buttons' own labels, as an owner may copy them
        for score in RATING_SCORES:
            table[_key(t(lang, f"rating.score.{score}"))] = score
    return table


def score_in_words(text: str) -> int | None:
    """1–5 when the whole message is a rating in words, else None."""
    return _score_of_words().get(_key(text)) if len(text) <= 40 else None


async def rate(turn: Turn, value: str) -> None:
    try:
        _, ticket_id, score = value.split(":")
        ticket = await turn.session.get(Ticket, int(ticket_id))
        points = int(score)
    except ValueError:
        ticket, points = None, 0
    if ticket is None or not turn.owns(ticket):
        turn.say("rating.unknown")
        return
    actor = Actor.of_owner(turn.owner) if turn.owner else BOT
    try:
        rating = await ratings.rate(
            turn.session, ticket, points, actor, channel=turn.identity.channel, now=turn.now
        )
    except DomainError:
        turn.say("rating.already")
        return
    turn.ticket_id = ticket.id
    turn.start("rating", "comment", rating_id=rating.id)
    key = "rating.thanks_low" if points <= ratings.LOW else "rating.thanks"
    turn.say(key, turn.button("button.skip", "rating:skip"), number=ticket.number)


async def prompt(turn: Turn) -> None:
    turn.say("rating.ask_comment", turn.button("button.skip", "rating:skip"))


async def handle(turn: Turn) -> bool:
    rating = await turn.session.get(Rating, int(turn.data.get("rating_id", 0)))
    turn.finish()
    if turn.value == "rating:skip" or rating is None:
        turn.say("rating.done")
        return True
    if not turn.text:
        return False
    actor = Actor.of_owner(turn.owner) if turn.owner else BOT
    await ratings.add_comment(turn.session, rating, turn.text, actor)
    turn.ticket_id = rating.ticket_id
    turn.say("rating.comment_saved")
    return True


async def rate_in_words(turn: Turn) -> bool:
    """A rating typed instead of tapped, for the owner's ticket that waits for one."""
    score = score_in_words(turn.text) if turn.text else None
    if score is None:
        return False
    waiting = await ratings.waiting_for_rating(
        turn.session, turn.owner.id if turn.owner else None, turn.identity.id
    )
    if waiting is None:
        return False
    await rate(turn, f"rate:{waiting}:{score}")
    return True
