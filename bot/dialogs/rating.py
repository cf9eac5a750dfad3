"""One tap to rate after the callback, then an optional comment."""

from __future__ import annotations

from backend import ratings
from backend.actors import BOT, Actor
from backend.errors import DomainError
from backend.models import Rating, Ticket
from bot.dialogs.context import Turn


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
