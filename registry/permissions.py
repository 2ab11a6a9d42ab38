"""Who may do what, each rule written once: a row check and a search filter from the same rule.

A grant is a role on a unit: a commune code (5 digits), a province code (2 digits) or
"national". A grant on a province covers every commune in it; "national" covers everything.

Each action of POLICY is a list of rules; a rule gives, for a user, the `Scope` of models it
lets them act on (some states, in some units). Everything else is derived from that one
answer, so the row check and the query cannot drift apart:

- `allows(user, action, practice)` — may this user do it to this model? (`scope.contains`)
- `scope(user, action)` — which models? `practice_clause(scope)` turns it into an SQLAlchemy
  clause; the search backends turn the same object into a bitmap (registry.search.facet_index)
  or an Elasticsearch filter (registry.search.elastic_mapping.scope_filter).

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
Archived models are edited by administrators only. Inactive accounts hold no rights.
"""
from __future__ import annotations

from dataclasses import dataclass

from registry.models.accounts import NATIONAL
from registry.domain.workflow import PUBLIC_STATES, STATES

NOT_ARCHIVED = frozenset(s.code for s in STATES if s.code != "archived")


@dataclass(frozen=True)
class Area:
    """Models in `states` (None: any state) whose commune or province is in `units` (None:
    anywhere)."""

    states: frozenset[str] | None = None
    units: frozenset[str] | None = None

    def contains(self, practice) -> bool:
        return ((self.states is None or practice.status in self.states)
                and self.covers_place(practice.commune_code, practice.province_code))

    def covers_place(self, commune_code: str | None, province_code: str | None) -> bool:
        return self.units is None or commune_code in self.units or province_code in self.units

    @property
    def communes(self) -> frozenset[str]:
        return frozenset(u for u in self.units or () if len(u) == 5)

    @property
    def provinces(self) -> frozenset[str]:
        return frozenset(u for u in self.units or () if len(u) != 5)


@dataclass(frozen=True)
class Scope:
    """The models a user may act on: the union of some areas (none at all: nothing)."""

    areas: tuple[Area, ...] = ()

    @property
    def everything(self) -> bool:
        return any(a.states is None and a.units is None for a in self.areas)

    @property
    def empty(self) -> bool:
        return not self.areas

    def contains(self, practice) -> bool:
        return practice is not None and any(a.contains(practice) for a in self.areas)

    def covers_place(self, commune_code: str | None, province_code: str | None) -> bool:
        return any(a.covers_place(commune_code, province_code) for a in self.areas)


def _grants(user):
    if user is None or not getattr(user, "is_authenticated", False):
        return ()
    if not getattr(user, "active", True):
        return ()
    return getattr(user, "grants", ())


# --- rules: each gives the areas it opens to a user ---------------------------------------

@dataclass(frozen=True)
class Anyone:
    """Everyone, signed in or not, for models in these states."""

    states: frozenset[str]

    def areas(self, user) -> list[Area]:
        return [Area(self.states)]


@dataclass(frozen=True)
class Granted:
    """Holders of one of `roles`, for models in their granted units (and in `states`)."""

    roles: tuple[str, ...]
    states: frozenset[str] | None = None

    def areas(self, user) -> list[Area]:
        units = {g.unit for g in _grants(user) if g.role in self.roles}
        if not units:
            return []
        return [Area(self.states, None if NATIONAL in units else frozenset(units))]


def Administrators(states: frozenset[str] | None = None) -> Granted:  # noqa: N802 (a rule)
    """Administrators, everywhere (their grant is national)."""
    return Granted(("admin",), states)


POLICY: dict[str, tuple] = {
    "view": (Anyone(frozenset(PUBLIC_STATES)), Administrators(),
             Granted(("officer", "committee", "reviewer"))),
    "view_personal_data": (Administrators(), Granted(("officer", "committee"))),
    "edit": (Administrators(), Granted(("officer",), NOT_ARCHIVED)),
    "archive": (Administrators(NOT_ARCHIVED), Granted(("officer",), NOT_ARCHIVED)),
    # Registering a model: only the place matters (states are not asked).
    "create": (Administrators(), Granted(("officer",))),
    # Workflow actions on a model (registry.domain.workflow.TRANSITIONS names the rule and
    # the states each action starts from).
    "manage": (Administrators(), Granted(("officer",))),  # submit, archive
    "verify": (Administrators(), Granted(("committee",))),
    "restore": (Administrators(), Granted(("committee",))),
    "nominate": (Administrators(), Granted(("officer", "committee"))),
    "commend": (Administrators(), Granted(("committee",))),
    "replicate": (Administrators(), Granted(("officer",))),  # the place of the new model
    # A nomination's file (reasons, reviews) is seen by those with a say in the model's area.
    "view_nomination": (Administrators(), Granted(("officer", "committee", "reviewer"))),
    # Dashboards (coverage, results, nominations): committees follow their area.
    "dashboards": (Administrators(), Granted(("committee",))),
}


def scope(user, action: str) -> Scope:
    """The models `user` may `action` (the union of the action's rules)."""
    return Scope(tuple(area for rule in POLICY[action] for area in rule.areas(user)))


def allows(user, action: str, practice) -> bool:
    return scope(user, action).contains(practice)


# --- rules on nominations: the committee of the level, the assigned reviewers -------------

def decision_unit(level: str, province_code: str) -> str:
    """Whose committee decides at a level: the province's own, or the national one."""
    return NATIONAL if level == "national" else province_code


def deciding_units(user) -> frozenset[str] | None:
    """Units whose committee the user sits on (None: every unit, for administrators)."""
    if is_admin(user):
        return None
    return frozenset(g.unit for g in _grants(user) if g.role == "committee")


def can_decide(user, nomination) -> bool:
    """Assign reviewers, approve, reject, ask for changes, escalate: the committee of the
    nomination's level (a commune committee never; the national one only nationally)."""
    units = deciding_units(user)
    return units is None or nomination.decision_unit in units


def can_withdraw_recognition(user, practice) -> bool:
    """The committee of the level that recognised the model."""
    if practice.recognition_level not in ("province", "national"):
        return is_admin(user)
    units = deciding_units(user)
    return units is None or decision_unit(practice.recognition_level,
                                          practice.province_code) in units


def open_assignment(user, nomination):
    """The user's review assignment in the nomination's current round awaiting them."""
    user_id = getattr(user, "id", None) if _grants(user) else None
    return next((a for a in nomination.current_assignments()
                 if a.reviewer_id == user_id and a.state == "assigned"), None)


def can_review(user, nomination) -> bool:
    return open_assignment(user, nomination) is not None


def can_nominate(user, practice) -> bool:
    return allows(user, "nominate", practice)


def can_view_nomination(user, nomination) -> bool:
    return can_decide(user, nomination) or allows(user, "view_nomination", nomination.practice)


def can_see_all_scores(user, nomination) -> bool:
    """The committee of the level sees every review; a reviewer sees the others' only after
    submitting their own in that round (blind review)."""
    if can_decide(user, nomination):
        return True
    user_id = getattr(user, "id", None) if _grants(user) else None
    return any(a.reviewer_id == user_id and a.state == "submitted"
               for a in nomination.current_assignments())


def reviewer_conflict(user, practice) -> bool:
    """A reviewer holding any role on the model's own commune may not review it."""
    return any(g.unit == practice.commune_code for g in _grants(user))


def may_be_assigned(user, practice) -> bool:
    """A reviewer whose grant covers the model and who has no role on its commune."""
    reviewing = Scope(tuple(Granted(("reviewer",)).areas(user)))
    return (reviewing.covers_place(practice.commune_code, practice.province_code)
            and not reviewer_conflict(user, practice))


def practice_clause(which: Scope):
    """The scope as an SQLAlchemy WHERE clause on Practice."""
    from sqlalchemy import and_, false, or_, true

    from registry.models.practices import Practice
    parts = []
    for area in which.areas:
        conditions = []
        if area.states is not None:
            conditions.append(Practice.status.in_(sorted(area.states)))
        if area.units is not None:
            conditions.append(or_(Practice.commune_code.in_(sorted(area.communes)),
                                  Practice.province_code.in_(sorted(area.provinces))))
        parts.append(and_(*conditions) if conditions else true())
    return or_(*parts) if parts else false()


# --- the questions pages, templates, the API and exports ask -------------------------------

def has_role(user, role: str) -> bool:
    return any(g.role == role for g in _grants(user))


def is_admin(user) -> bool:
    return has_role(user, "admin")


def can_view_practice(user, practice) -> bool:
    return allows(user, "view", practice)


def can_view_personal_data(user, practice) -> bool:
    """Core members' names and phones: own officers, covering committees, administrators."""
    return allows(user, "view_personal_data", practice)


def can_create_practice(user, commune_code: str | None = None,
                        province_code: str | None = None) -> bool:
    """Officers register models of their commune; administrators anywhere.

    Without a commune: may the user register models somewhere (shows the "new" link)?
    """
    where = scope(user, "create")
    if commune_code is None:
        return not where.empty
    return where.covers_place(commune_code, province_code or "")


def can_edit_practice(user, practice) -> bool:
    return allows(user, "edit", practice)


def can_archive_practice(user, practice) -> bool:
    return allows(user, "archive", practice)


def can_view_revisions(user, practice) -> bool:
    return can_view_personal_data(user, practice)


def can_view_evidence(user, practice) -> bool:
    """Evidence files may name people; the same audience as personal data."""
    return can_view_personal_data(user, practice)


def can_manage_users(user) -> bool:
    return is_admin(user)
