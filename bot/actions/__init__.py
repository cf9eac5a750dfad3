"""rasa-sdk custom actions that expose OwnerDesk's services (repairs, complaints,
ticket status, the knowledge base) to a site that runs its own Rasa assistant.

``ownerdesk actions serve`` runs them; a site may also load the package into its own
action server (``python -m rasa_sdk --actions bot.actions``). See docs/rasa.md.
"""

from __future__ import annotations

from bot.actions.complaint import ActionOpenComplaint
from bot.actions.enquiry import ActionAnswerEnquiry
from bot.actions.repair import ActionEmergencyDetails, ActionOpenRepair
from bot.actions.status import ActionTicketStatus

ACTIONS = (
    ActionOpenRepair,
    ActionOpenComplaint,
    ActionTicketStatus,
    ActionAnswerEnquiry,
    ActionEmergencyDetails,
)

__all__ = [
    "ACTIONS",
    "ActionAnswerEnquiry",
    "ActionEmergencyDetails",
    "ActionOpenComplaint",
    "ActionOpenRepair",
    "ActionTicketStatus",
]
