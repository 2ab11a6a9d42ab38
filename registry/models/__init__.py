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

__all__ = [
    "Abbreviation", "ApiToken", "Commune", "CoreMember", "Evidence", "Grant", "LoginAttempt",
    "OutcomeReport", "Practice", "Province", "Revision", "SearchChange", "SearchCounter", "Term",
    "User", "practice_domains", "practice_forms", "practice_target_groups",
]
