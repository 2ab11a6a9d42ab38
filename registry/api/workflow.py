"""Workflow endpoints: actions on models and nominations, reviews, replication, commendation,
timelines and the inbox. Each write is one unit of work around one service call."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import jsonify, url_for

from registry.api import bp
from registry.api.auth import current_api_user
from registry.routing import MAX_ID
from registry.api.practices import json_body, load_practice, practice_response
from registry.domain.errors import FieldError, Invalid
from registry.domain.workflow import nomination_state_label
from registry.services import inbox as inbox_service, workflow
from registry.services.uow import unit_of_work

SOURCE = "api"


def _reason(body: dict) -> str:
    value = body.get("reason", body.get("comment", ""))
    return value if isinstance(value, str) else ""


def timestamp(moment: datetime | None) -> str | None:
    """An RFC 3339 date-time, as the document's "format": "date-time" requires: with its
    offset. Stored times are UTC; SQLite gives them back without a time zone."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.isoformat()


def actor_name(event, user) -> str | None:
    """Names of the people acting are shown to signed-in staff, not to the public."""
    if event.actor is None or not getattr(user, "grants", None):
        return None
    return event.actor.name


def event_json(event, user) -> dict:
    return {"id": event.id, "at": timestamp(event.at), "action": event.action,
            "from": event.from_state, "to": event.to_state, "reason": event.reason,
            "actor": actor_name(event, user), "nomination_id": event.nomination_id,
            "data": {k: v for k, v in (event.data or {}).items()
                     if k not in ("reviewer_id",)}}


def reviews_json(nomination, user) -> dict:
    """The reviews this user may see (registry.services.workflow.visible_reviews)."""
    view = workflow.visible_reviews(user, nomination)
    return {"visible": "all" if view.see_all else "own", "means": view.means, "items": [
        {"round": a.round, "reviewer": a.reviewer.name, "due": a.due_on.isoformat(),
         "state": a.state, "scores": a.scores if a.state == "submitted" else {},
         "comment": a.comment} for a in view.assignments]}


def nomination_json(nomination, user) -> dict:
    return {
        "id": nomination.id, "practice_id": nomination.practice_id,
        "practice": nomination.practice.name, "level": nomination.level,
        "state": nomination.state, "state_label": nomination_state_label(nomination.state),
        "round": nomination.round, "reason": nomination.reason, "periods": nomination.periods,
        "created_at": timestamp(nomination.created_at),
        "decided_at": timestamp(nomination.decided_at),
        "decision_reason": nomination.decision_reason,
        "escalated_from": nomination.escalated_from_id,
        "version": nomination.version,
        "actions": workflow.allowed_actions(user, nomination),
        "reviews": reviews_json(nomination, user),
        "url": url_for("api.get_nomination", nomination_id=nomination.id),
    }


def nomination_response(nomination, user, status: int = 200):
    response = jsonify(nomination_json(nomination, user))
    response.status_code = status
    response.headers["ETag"] = f'"{nomination.version}"'
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.post("/practices/<int:practice_id>/actions/<action>")
def practice_action(practice_id: int, action: str):
    user = current_api_user(required=True)
    load_practice(practice_id, user)  # 404 before looking at the body
    body = json_body()
    with unit_of_work(user, SOURCE):
        practice = workflow.perform(user, "practice", practice_id, action,
                                    version=body.get("version"), reason=_reason(body),
                                    source=SOURCE)
    return practice_response(practice, user)


@bp.post("/nominations")
def create_nomination():
    user = current_api_user(required=True)
    body = json_body()
    practice_id = body.get("practice_id")
    if isinstance(practice_id, bool) or not isinstance(practice_id, int) \
            or not 1 <= practice_id <= MAX_ID:
        raise Invalid([FieldError("practice_id", "phải là số của mô hình")], "Hồ sơ đề cử")
    with unit_of_work(user, SOURCE):
        nomination = workflow.nominate(user, practice_id, level=body.get("level"),
                                       reason=_reason(body), periods=body.get("periods"),
                                       source=SOURCE)
    response = nomination_response(nomination, user, 201)
    response.headers["Location"] = url_for("api.get_nomination", nomination_id=nomination.id)
    return response


@bp.get("/nominations/<int:nomination_id>")
def get_nomination(nomination_id: int):
    user = current_api_user(required=False)
    return nomination_response(workflow.load_nomination(nomination_id, user), user)


@bp.post("/nominations/<int:nomination_id>/reviewers")
def assign_reviewer(nomination_id: int):
    user = current_api_user(required=True)
    workflow.load_nomination(nomination_id, user)  # 404 before looking at the body
    body = json_body()
    with unit_of_work(user, SOURCE):
        nomination = workflow.perform(user, "nomination", nomination_id, "assign_reviewer",
                                      version=body.get("version"), payload=body, source=SOURCE)
    return nomination_response(nomination, user, 201)


@bp.post("/nominations/<int:nomination_id>/reviews")
def submit_review(nomination_id: int):
    user = current_api_user(required=True)
    workflow.load_nomination(nomination_id, user)  # 404 before looking at the body
    body = json_body()
    with unit_of_work(user, SOURCE):
        nomination = workflow.perform(user, "nomination", nomination_id, "review",
                                      version=body.get("version"), payload=body, source=SOURCE)
    return nomination_response(nomination, user, 201)


@bp.post("/nominations/<int:nomination_id>/actions/<action>")
def nomination_action(nomination_id: int, action: str):
    user = current_api_user(required=True)
    workflow.load_nomination(nomination_id, user)  # 404 before looking at the body
    body = json_body()
    with unit_of_work(user, SOURCE):
        nomination = workflow.perform(user, "nomination", nomination_id, action,
                                      version=body.get("version"), reason=_reason(body),
                                      payload=body, source=SOURCE)
    return nomination_response(nomination, user)


@bp.post("/practices/<int:practice_id>/replications")
def create_replication(practice_id: int):
    user = current_api_user(required=True)
    load_practice(practice_id, user)  # 404 before looking at the body
    body = json_body()
    copy = body.get("copy") or []
    with unit_of_work(user, SOURCE):
        copied = workflow.replicate(user, practice_id, commune_code=body.get("commune_code"),
                                    copy=copy if isinstance(copy, list) else [copy],
                                    source=SOURCE)
    return practice_response(copied, user, 201)


@bp.post("/practices/<int:practice_id>/commendations")
def create_commendation(practice_id: int):
    user = current_api_user(required=True)
    load_practice(practice_id, user)  # 404 before looking at the body
    body = json_body()
    with unit_of_work(user, SOURCE):
        workflow.commend(user, practice_id, kind=body.get("kind"), level=body.get("level"),
                         decided_on=body.get("decided_on"),
                         decision_number=body.get("decision_number") or "",
                         member_name=body.get("member_name") or "", note=body.get("note") or "",
                         source=SOURCE)
    practice = load_practice(practice_id, user)
    return practice_response(practice, user, 201)


@bp.get("/practices/<int:practice_id>/timeline")
def practice_timeline(practice_id: int):
    user = current_api_user(required=False)
    load_practice(practice_id, user)
    return jsonify({"events": [event_json(e, user) for e in workflow.timeline(practice_id)]})


@bp.get("/nominations/<int:nomination_id>/timeline")
def nomination_timeline(nomination_id: int):
    user = current_api_user(required=False)
    workflow.load_nomination(nomination_id, user)
    return jsonify({"events": [event_json(e, user)
                               for e in workflow.nomination_timeline(nomination_id)]})


@bp.get("/inbox")
def inbox():
    user = current_api_user(required=True)
    sections = inbox_service.inbox(user)
    return jsonify({
        "total": sum(len(items) for items in sections.values()),
        "sections": {name: {"label": inbox_service.SECTIONS[name], "items": [
            {"title": i.title, "url": i.path, "practice_id": i.practice_id,
             "nomination_id": i.nomination_id, "due": i.due.isoformat() if i.due else None,
             "overdue": i.overdue, "note": i.note} for i in items]}
            for name, items in sections.items()},
    })
