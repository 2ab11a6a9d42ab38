"""The registry's tables, one module per aggregate; importing this registers them all."""
from registry.models.accounts import ApiToken, Grant, LoginAttempt, User
from registry.models.places import Commune, Province
from registry.models.practices import (
    CoreMember, Evidence, OutcomeReport, Practice, practice_domains, practice_forms,
    practice_target_groups,
)
from registry.models.revisions import Revision
from registry.models.search_log import SearchChange, SearchCounter
from registry.models.vocab import Abbreviation, Term
from registry.models.workflow import (
    Commendation, Event, Nomination, OutboxMessage, ReviewAssignment,
)

__all__ = [
    "Abbreviation", "ApiToken", "Commendation", "Commune", "CoreMember", "Event", "Evidence",
    "Grant", "LoginAttempt", "Nomination", "OutboxMessage", "OutcomeReport", "Practice",
    "ReviewAssignment", "Province", "Revision", "SearchChange", "SearchCounter", "Term",
    "User", "practice_domains", "practice_forms", "practice_target_groups",
]
