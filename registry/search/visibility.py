"""Which models a viewer may find, as units: the set form of permissions.can_view_practice."""
from __future__ import annotations

from registry.models.accounts import NATIONAL
from registry.permissions import JURISDICTION_ROLES, is_admin


def view_scope(user):
    """None when the viewer may see every model; else (commune codes, province codes) whose
    non-public models they may see, besides the public ones. Mirrors can_view_practice:
    administrators see all; officers, committees and reviewers see their units."""
    if is_admin(user):
        return None
    communes, provinces = set(), set()
    if user is None or not getattr(user, "is_authenticated", False):
        return communes, provinces
    for grant in getattr(user, "grants", ()):
        if grant.role not in JURISDICTION_ROLES:
            continue
        if grant.unit == NATIONAL:
            return None
        (communes if len(grant.unit) == 5 else provinces).add(grant.unit)
    return communes, provinces
