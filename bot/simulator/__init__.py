"""The web chat simulator (`/simulator`): try the whole bot in a browser, with no LINE account.

Registered by create_app only when it is given a LineEmulator (`khabuan serve` without LINE
credentials), so a production app has no such route. The browser never signs anything: it says
what a persona did, and this blueprint builds the webhook event with bot.emulator.events, signs
it with the channel secret and POSTs it to /callback, exactly as LINE does. What the bot said
comes back from the emulator's record of deliveries, so replies and worker pushes show alike.
"""
from __future__ import annotations

import io
import json
import secrets
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, abort, current_app, jsonify, render_template, request, send_file
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import appointments
from ..emulator import LineEmulator
from ..emulator import events as ev
from ..i18n import _, use_locale
from ..line import LineApiError
from ..models import AuditVia, Member, Province, Region, Role, utcnow
from ..scopes import ScopeError, resolve

bp = Blueprint("simulator", __name__, url_prefix="/simulator", template_folder="templates",
               static_folder="static")

MAX_PHOTO = 10 * 1024 * 1024  # LINE's app sends photos well under this
# Places a persona can share without typing coordinates (LINE's location picker stand-in).
SAMPLE_PLACES: tuple[dict[str, Any], ...] = (
    {"title": "ศาลากลางจังหวัดเชียงใหม่", "address": "ถนนโชตนา อำเภอเมืองเชียงใหม่ เชียงใหม่",
     "latitude": 18.8394, "longitude": 98.9697},
    {"title": "สถาบันพัฒนาองค์กรชุมชน", "address": "ถนนนวมินทร์ แขวงคลองจั่น เขตบางกะปิ กรุงเทพมหานคร",
     "latitude": 13.7865, "longitude": 100.6473},
    {"title": "ศาลาประชาคม ขอนแก่น", "address": "อำเภอเมืองขอนแก่น ขอนแก่น",
     "latitude": 16.4322, "longitude": 102.8236},
    {"title": "ท่าเรือชุมชน หาดใหญ่", "address": "อำเภอหาดใหญ่ สงขลา",
     "latitude": 7.0086, "longitude": 100.4747},
)
PERSONA_ROLES = {  # persona kind -> role granted when it is created (None: a plain member)
    "leader": Role.LEADER, "coordinator": Role.COORDINATOR, "secretariat": Role.SECRETARIAT,
    "delegate": Role.DELEGATE, "member": None,
}


@dataclass
class Persona:
    id: str  # LINE user id (U…) or group id (C…)
    name: str
    kind: str  # leader | coordinator | secretariat | delegate | member | group
    scope: str = "national"
    members: list[str] = field(default_factory=list)  # a group's personas


@dataclass
class _Bubble:
    """Something a persona said, placed before the bot's delivery number `after`."""

    after: int
    chat_id: str
    user_id: str
    message: dict[str, Any]


class SimulatorState:
    """Personas (kept in the instance folder, like the database) and the personas' own words."""

    def __init__(self, emulator: LineEmulator, secret: str, path: Path) -> None:
        self.emulator = emulator
        self.secret = secret
        self.path = path
        self.lock = threading.Lock()
        self.personas: dict[str, Persona] = {}
        self.bubbles: list[_Bubble] = []
        self.photos: dict[str, tuple[bytes, str]] = {}
        if path.exists():
            for raw in json.loads(path.read_text(encoding="utf-8")):
                self.personas[raw["id"]] = Persona(**raw)
        for persona in self.personas.values():  # the emulator forgets on restart; the database does not
            self._teach_emulator(persona)

    def _teach_emulator(self, persona: Persona) -> None:
        if persona.kind == "group":
            self.emulator.set_group(persona.id, persona.name, members=persona.members)
        else:
            self.emulator.set_profile(persona.id, persona.name)

    def add(self, persona: Persona) -> None:
        with self.lock:
            self.personas[persona.id] = persona
            self._teach_emulator(persona)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps([asdict(p) for p in self.personas.values()], ensure_ascii=False,
                                            indent=1), encoding="utf-8")

    def said(self, chat_id: str, user_id: str, message: dict[str, Any]) -> None:
        with self.lock:
            self.bubbles.append(_Bubble(len(self.emulator.delivered), chat_id, user_id, message))

    def transcript(self, chat_id: str) -> list[dict[str, Any]]:
        """The chat as its members see it: their bubbles and the bot's messages, in order."""
        with self.lock:
            mine = [b for b in self.bubbles if b.chat_id == chat_id]
        out: list[dict[str, Any]] = []
        for index, delivery in enumerate(self.emulator.delivered):
            out += [{"from": b.user_id, "message": b.message} for b in mine if b.after == index]
            if delivery.chat_id == chat_id:
                out.append({"from": "bot", "via": delivery.via, "message": delivery.message})
        total = len(self.emulator.delivered)
        out += [{"from": b.user_id, "message": b.message} for b in mine if b.after >= total]
        return out


def init_simulator(app: Flask, emulator: LineEmulator) -> None:
    services = app.extensions["khabuan"]
    path = services.settings.instance_path / "simulator-personas.json"
    app.extensions["khabuan_simulator"] = SimulatorState(emulator, services.settings.channel_secret, path)
    app.register_blueprint(bp)


def _state() -> SimulatorState:
    return current_app.extensions["khabuan_simulator"]


def _services() -> Any:
    return current_app.extensions["khabuan"]


def _persona(persona_id: str) -> Persona:
    persona = _state().personas.get(persona_id)
    if persona is None:
        abort(404, f"no persona {persona_id}")
    return persona


def _post_webhook(event: dict[str, Any]) -> int:
    """Sign and POST one event to /callback as LINE does; returns the bot's HTTP status."""
    body = ev.encode_body(ev.callback_body([event]))
    headers = {"Content-Type": "application/json", "X-Line-Signature": ev.sign(body, _state().secret)}
    # Through the app itself (its WSGI stack, not a function call): the webhook's signature check,
    # dedupe and transaction all run, with no need to know which host and port serve the page.
    response = current_app.test_client().post("/callback", data=body, headers=headers)
    return response.status_code


# ---- page and assets --------------------------------------------------------------------


@bp.get("/")
def page() -> str:
    return render_template("simulator.html")


@bp.get("/font/<weight>.ttf")
def font(weight: str) -> Response:
    """Sarabun from its pip package, so Thai renders the same on any laptop, offline."""
    if weight not in ("Regular", "Bold"):
        abort(404)
    from ..richmenu import _font_path

    return send_file(_font_path(weight), mimetype="font/ttf", max_age=86400)


# ---- personas and groups ----------------------------------------------------------------


@bp.get("/api/state")
def state() -> Response:
    with _services().session_factory() as session:
        provinces = [{"code": p.code, "name": p.name_th}
                     for p in session.scalars(select(Province).order_by(Province.name_th))]
        regions = [{"code": r.code, "name": r.name_th} for r in session.scalars(select(Region).order_by(Region.id))]
        roles = {m.line_user_id: sorted(f"{g.role.value} ({g.scope_kind.value}{':' + g.scope_code if g.scope_code else ''})"
                                        for g in m.roles)
                 for m in session.scalars(select(Member).where(
                     Member.line_user_id.in_(list(_state().personas))))}
    personas = [{**asdict(p), "roles": roles.get(p.id, [])} for p in _state().personas.values()]
    return jsonify(personas=personas, provinces=provinces, regions=regions, places=SAMPLE_PLACES,
                   kinds=list(PERSONA_ROLES))


def _grant(user_id: str, role: Role, scope: str) -> None:
    """The same code path as `khabuan grant`."""
    with _services().session_factory() as session, session.begin():
        member = session.scalar(select(Member).where(Member.line_user_id == user_id))
        if member is None:
            abort(409, "the persona has not added the bot yet")
        try:
            appointments.operator_grant(session, member, role, resolve(session, scope), via=AuditVia.CLI,
                                        now=utcnow())
        except ScopeError as exc:
            abort(400, str(exc))


@bp.post("/api/personas")
def create_persona() -> tuple[Response, int]:
    data = request.get_json(force=True)
    kind = data.get("kind", "member")
    name = (data.get("name") or "").strip()[:20]
    if kind not in PERSONA_ROLES or not name:
        abort(400, "a persona needs a name and a kind")
    scope = data.get("scope") or "national"
    persona = Persona("U" + secrets.token_hex(16), name, kind, scope)
    role = PERSONA_ROLES[kind]
    if role is not None:  # check the scope before anything exists
        with _services().session_factory() as session:
            try:
                resolve(session, scope)
            except ScopeError as exc:
                abort(400, str(exc))
    _state().add(persona)
    # Adding the bot as a friend is the follow event: the bot greets them and the member row exists.
    status = _post_webhook(ev.follow_event(persona.id, _state().emulator.issue_reply_token(persona.id)))
    if role is not None:
        _grant(persona.id, role, scope)
    return jsonify(persona=asdict(persona), webhook=status), 201


@bp.post("/api/personas/<persona_id>/grant")
def grant_role(persona_id: str) -> Response:
    persona = _persona(persona_id)
    data = request.get_json(force=True)
    try:
        role = Role(data.get("role"))
    except ValueError:
        abort(400, "unknown role")
    _grant(persona.id, role, data.get("scope") or "national")
    return jsonify(ok=True)


@bp.post("/api/groups")
def create_group() -> tuple[Response, int]:
    data = request.get_json(force=True)
    name = (data.get("name") or "").strip()[:50]
    members = [m for m in data.get("members", []) if m in _state().personas and _state().personas[m].kind != "group"]
    if not name or not members:
        abort(400, "a group needs a name and at least one persona")
    group = Persona("C" + secrets.token_hex(16), name, "group", members=members)
    _state().add(group)
    status = _post_webhook(ev.join_event(group.id, _state().emulator.issue_reply_token(group.id)))
    return jsonify(persona=asdict(group), webhook=status), 201


# ---- talking ------------------------------------------------------------------------------


def _speaker(chat: Persona, data: dict[str, Any]) -> tuple[str, str | None]:
    """(user id, group id): in a group the chosen member speaks."""
    if chat.kind != "group":
        return chat.id, None
    user_id = data.get("as") or (chat.members[0] if chat.members else "")
    if user_id not in chat.members:
        abort(400, "that persona is not in this group")
    return user_id, chat.id


@bp.post("/api/chats/<chat_id>/send")
def send(chat_id: str) -> Response:
    """One thing the persona did in LINE; answered with the webhook status."""
    chat = _persona(chat_id)
    data = request.get_json(force=True)
    user_id, group_id = _speaker(chat, data)
    token = _state().emulator.issue_reply_token(chat.id)
    kind = data.get("type")
    if kind == "text":
        text = str(data.get("text", ""))[:5000]
        if not text.strip():
            abort(400, "empty text")
        event = ev.text_event(user_id, text, token, group_id=group_id)
        shown: dict[str, Any] | None = {"type": "text", "text": text}
    elif kind == "postback":
        params = {k: str(v) for k, v in (data.get("params") or {}).items() if k in ("date", "time", "datetime")}
        event = ev.postback_event(user_id, str(data.get("data", "")), token, params=params or None,
                                  group_id=group_id)
        # LINE shows a postback's displayText as the person's own message; the bot never gets it.
        display = data.get("displayText") or _picked(params)
        shown = {"type": "text", "text": display} if display else None
    elif kind == "sticker":
        event = ev.sticker_event(user_id, "446", str(data.get("stickerId", "1988")), token, group_id=group_id)
        shown = {"type": "sticker", "packageId": "446", "stickerId": str(data.get("stickerId", "1988"))}
    elif kind == "location":
        try:
            lat, lng = float(data["latitude"]), float(data["longitude"])
        except (KeyError, TypeError, ValueError):
            abort(400, "a location needs numeric latitude and longitude")
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            abort(400, "coordinates out of range")
        address = str(data.get("address") or f"{lat:.5f}, {lng:.5f}")[:200]
        title = data.get("title") or None
        event = ev.location_event(user_id, lat, lng, address, title, reply_token=token, group_id=group_id)
        shown = {"type": "location", "latitude": lat, "longitude": lng, "address": address, "title": title}
    else:
        abort(400, "type must be text, postback, sticker or location")
    if shown is not None:
        _state().said(chat.id, user_id, shown)
    return jsonify(webhook=_post_webhook(event))


def _picked(params: dict[str, str]) -> str | None:
    # LINE shows nothing for a picker without displayText; showing the value helps the trainer follow.
    return next(iter(params.values()), None)


@bp.post("/api/chats/<chat_id>/photo")
def photo(chat_id: str) -> Response:
    chat = _persona(chat_id)
    upload = request.files.get("photo")
    if upload is None:
        abort(400, "no photo")
    data = upload.read(MAX_PHOTO + 1)
    if not data or len(data) > MAX_PHOTO:
        abort(413, "photo missing or too large")
    content_type = upload.mimetype if upload.mimetype in ("image/jpeg", "image/png") else "image/jpeg"
    user_id, group_id = _speaker(chat, request.form)
    message_id = ev.new_message_id()
    # The bot downloads the bytes from the emulator, as from LINE's content API.
    _state().emulator.add_content(message_id, data, content_type)
    _state().photos[message_id] = (data, content_type)
    _state().said(chat.id, user_id, {"type": "image", "src": f"photo/{message_id}"})
    token = _state().emulator.issue_reply_token(chat.id)
    return jsonify(webhook=_post_webhook(ev.image_event(user_id, message_id, token, group_id=group_id)))


@bp.get("/photo/<message_id>")
def photo_content(message_id: str) -> Response:
    found = _state().photos.get(message_id)
    if found is None:
        abort(404)
    return send_file(io.BytesIO(found[0]), mimetype=found[1])


@bp.get("/api/counts")
def counts() -> Response:
    """Messages the bot delivered per persona chat, so the page can badge chats with new pushes."""
    personas = _state().personas
    tally: dict[str, int] = dict.fromkeys(personas, 0)
    for delivery in _state().emulator.delivered:
        if delivery.chat_id in tally:
            tally[delivery.chat_id] += 1
    return jsonify(counts=tally)


@bp.get("/api/chats/<chat_id>")
def transcript(chat_id: str) -> Response:
    """The chat, and its pushes the outbox holds back for quiet hours (the page says until when)."""
    _persona(chat_id)
    return jsonify(messages=_state().transcript(chat_id), held=held_by_quiet_hours(_services(), chat_id, utcnow()))


def held_by_quiet_hours(services: Any, chat_id: str, now: datetime) -> dict[str, Any] | None:
    """Pending non-urgent pushes to `chat_id` that quiet hours keep back at `now`, and until when.

    None when nothing is held. The sender does not reschedule such rows, it skips them while the
    window lasts; so a row is held when the moment it is due falls inside quiet hours.
    """
    from ..delivery.quiet import quiet_ends_at
    from ..models import OutboxMessage, OutboxStatus

    s = services.settings
    with services.session_factory() as session:
        rows = session.execute(
            select(OutboxMessage.id, OutboxMessage.recipients, OutboxMessage.next_attempt_at)
            .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.urgent.is_(False))
            .order_by(OutboxMessage.id)).all()
    held = []
    for row in rows:
        if chat_id not in row.recipients:
            continue
        due = max(row.next_attempt_at, now)
        until = quiet_ends_at(due, s.quiet_start, s.quiet_end, s.timezone)
        if until > due:
            held.append({"id": row.id, "until": until.isoformat()})
    if not held:
        return None
    until = max(datetime.fromisoformat(h["until"]) for h in held).astimezone(s.timezone)
    with use_locale(s.default_locale):
        notice = _("simulator.quiet_hold", n=len(held), start=f"{s.quiet_start:%H:%M}",
                   end=f"{s.quiet_end:%H:%M}", time=f"{until:%H:%M}")
    return {"count": len(held), "until": until.isoformat(), "rows": held, "notice": notice}


# ---- clock, request log, rich menu ----------------------------------------------------------


@bp.get("/api/jobs")
def jobs() -> Response:
    from ..jobs import last_runs, next_fire_time
    from ..schedule import build_registry

    services = _services()
    tz = services.settings.timezone
    now = utcnow()
    latest = last_runs(services)
    out = []
    for spec in build_registry():
        run = latest.get(spec.name)
        nxt = next_fire_time(spec, tz, now)
        out.append({"name": spec.name, "description": spec.description,
                    "next": nxt.astimezone(tz).strftime("%Y-%m-%d %H:%M") if nxt else None,
                    "last": None if run is None else f"{run.fire_time.astimezone(tz):%Y-%m-%d %H:%M} {run.status}"})
    return jsonify(jobs=out, now=now.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), timezone=tz.key)


@bp.post("/api/jobs/<name>/run")
def run_now(name: str) -> Response:
    """Fire a job now through run_job, the once-only path `khabuan jobs run` uses."""
    from ..jobs import run_job
    from ..schedule import build_registry

    spec = build_registry().get(name)
    if spec is None:
        abort(404, f"no job named {name}")
    outcome = run_job(_services(), spec, utcnow(), "simulator")
    return jsonify(ran=outcome.ran, status=outcome.status, result=outcome.result, error=outcome.error)


@bp.get("/api/requests")
def requests_log() -> Response:
    since = request.args.get("since", 0, type=int)
    out = []
    for index, rec in enumerate(_state().emulator.requests[since:], start=since):
        body = rec.json if isinstance(rec.json, (dict, list)) else None
        out.append({"index": index, "method": rec.method, "path": rec.path, "status": rec.status,
                    "violation": rec.violation, "errors": rec.errors,
                    "at": rec.at.strftime("%H:%M:%S"),
                    "body": json.dumps(body, ensure_ascii=False)[:2000] if body is not None else None})
    return jsonify(requests=out)


@bp.get("/api/richmenu")
def richmenu() -> Response:
    """The default rich menu (areas), as LINE would show it under every 1:1 chat."""
    rich_menus = _services().gateway.rich_menus
    rich_menu_id = rich_menus.default_id()
    if rich_menu_id is None:
        return jsonify(menu=None)
    menu = next((m for m in rich_menus.list() if m.rich_menu_id == rich_menu_id), None)
    return jsonify(menu=None if menu is None else json.loads(menu.to_json()))


@bp.get("/api/richmenu/<rich_menu_id>/image")
def richmenu_image(rich_menu_id: str) -> Response:
    try:
        data = _services().gateway.rich_menus.image(rich_menu_id)
    except LineApiError:
        abort(404)
    return send_file(io.BytesIO(data), mimetype="image/png")
