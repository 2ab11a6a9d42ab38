"""Who may do what, answered in one place; views, templates, the API and exports all ask here.

A grant is a role on a unit: a commune code (5 digits), a province code (2 digits) or
"national". A grant on a province covers every commune in it; "national" covers everything.

The rules, by role (tests/test_permissions.py holds the same table, scope by scope):

| role      | granted on         | non-public models | personal data | edit, archive, create |
| --------- | ------------------ | ----------------- | ------------- | --------------------- |
| officer   | a commune          | its commune       | its commune   | in its commune        |
| committee | any level (*)      | its area          | its area      | no                    |
| reviewer  | any level (*)      | its area          | no            | no                    |
| trainer   | national           | no                | no            | no                    |
| admin     | national           | all               | all           | everywhere            |

(*) a commune, a province or "national".

Public models (registered, nominated, approved) are seen by everyone, signed in or not.
Inactive accounts hold no rights.
"""
from __future__ import annotations

from registry.models.accounts import NATIONAL
from registry.workflow import PUBLIC_STATES

# Roles whose grants give a say over the models of their area.
JURISDICTION_ROLES = ("officer", "committee", "reviewer")


def _grants(user):
    if user is None or not getattr(user, "is_authenticated", False):
        return ()
    if not getattr(user, "active", True):
        return ()
    return getattr(user, "grants", ())


def has_role(user, role: str) -> bool:
    return any(g.role == role for g in _grants(user))


def is_admin(user) -> bool:
    return has_role(user, "admin")


def unit_covers(unit: str, commune_code: str, province_code: str) -> bool:
    """Does a grant's unit include the commune?"""
    return unit == NATIONAL or unit == commune_code or unit == province_code


def covers(user, commune_code: str, province_code: str, roles) -> bool:
    """Does the user hold one of `roles` on a unit containing the commune?"""
    return any(g.role in roles and unit_covers(g.unit, commune_code, province_code)
               for g in _grants(user))


def is_own_officer(user, practice) -> bool:
    """An officer of the model's own commune (province-wide officer grants are not given)."""
    return covers(user, practice.commune_code, practice.province_code, ("officer",))


def is_covering_committee(user, practice) -> bool:
    return covers(user, practice.commune_code, practice.province_code, ("committee",))


def can_view_practice(user, practice) -> bool:
    """Public states for everyone; drafts and the rest for the model's own area."""
    if practice.status in PUBLIC_STATES:
        return True
    return (is_admin(user) or is_own_officer(user, practice)
            or covers(user, practice.commune_code, practice.province_code,
                      ("committee", "reviewer")))


def can_view_personal_data(user, practice) -> bool:
    """Core members' names and phones: own officers, covering committees, administrators."""
    return is_admin(user) or is_own_officer(user, practice) or is_covering_committee(
        user, practice)


def can_create_practice(user, commune_code: str | None = None,
                        province_code: str | None = None) -> bool:
    """Officers register models of their commune; administrators anywhere.

    Without a commune: may the user register models somewhere (shows the "new" link)?
    """
    if is_admin(user):
        return True
    if commune_code is None:
        return has_role(user, "officer")
    return covers(user, commune_code, province_code or "", ("officer",))


def can_edit_practice(user, practice) -> bool:
    """The model's own officers keep it up to date; archived models only administrators."""
    if practice.status == "archived":
        return is_admin(user)
    return is_admin(user) or is_own_officer(user, practice)


def can_archive_practice(user, practice) -> bool:
    return practice.status != "archived" and can_edit_practice(user, practice)


def can_view_revisions(user, practice) -> bool:
    return can_view_personal_data(user, practice)


def can_view_evidence(user, practice) -> bool:
    """Evidence files may name people; the same audience as personal data."""
    return can_view_personal_data(user, practice)


def can_manage_users(user) -> bool:
    return is_admin(user)
