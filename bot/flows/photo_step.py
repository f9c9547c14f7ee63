"""Step kinds for media people send: photos.

Kept apart from steps.py because they touch storage: each photo is handed to a
`store` function the moment it arrives (LINE keeps content only for a while),
and the step only remembers the stored rows' ids.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import thai
from ..context import Context, Input
from ..i18n import N_, _
from ..photos import PhotoRejected, StoredPhoto
from ..ui import Chip
from .steps import Answer, Outcome, Redraw, Retry, Step, StepView

PhotoStore = Callable[[Context, str], StoredPhoto]

NO_PHOTO_WORDS = frozenset({"ไม่มีรูป", "ไม่มี", "ไม่มีภาพ", "nophoto", "nophotos", "none", "no"})
NO_PHOTO_KEYS = frozenset(thai.command_key(w) for w in NO_PHOTO_WORDS)
REJECTED_KEYS = {"too_large": N_("photos.too_large"), "not_image": N_("photos.not_image")}


class Photos(Step):
    """Up to `max_photos` images, then on by itself; "done" or "no photo" at any time.

    The answer is a list of {"id": <row id>, "ok": <bytes stored?>}, so the summary
    can say how many came through without reading the database. Coming back to
    the step (back, or edit from the summary) starts from the photos already sent,
    so a forgotten photo can be added without sending the others again.
    """

    expects = "image"

    def __init__(self, name: str, prompt: str, *, store: PhotoStore, max_photos: int = 5, **kw: Any) -> None:
        super().__init__(name, prompt, **kw)
        self.store = store
        self.max_photos = max_photos

    def _got(self, sv: StepView) -> list[dict[str, Any]]:
        if "got" in sv.view:
            return list(sv.view["got"])
        previous = sv.view.get("prev")
        return list(previous) if isinstance(previous, list) else []

    # -- asking
    def question(self, ctx: Context, sv: StepView) -> str:
        got = self._got(sv)
        if not got:
            return _(self.prompt, max=self.max_photos)
        return _("photos.progress", n=len(got), left=self.max_photos - len(got))

    def chips(self, ctx: Context, sv: StepView) -> list[Chip]:
        got = self._got(sv)
        chips = [Chip(_("photos.camera"), kind="camera"), Chip(_("photos.camera_roll"), kind="cameraRoll")]
        if got:
            chips.append(Chip(_("common.done"), sv.data(x="done")))
            chips.append(Chip(_("photos.clear"), sv.data(x="clear")))
        else:
            chips.append(Chip(_("photos.none"), sv.data(x="none")))
        return chips

    # -- answering
    def accept(self, ctx: Context, sv: StepView, inp: Input) -> Outcome:
        got = self._got(sv)
        if inp.kind == "image" and inp.message_id:
            return self._receive(ctx, sv, got, inp.message_id)
        if inp.kind == "postback":
            action = inp.data.get("x")
            if action == "done":
                return Answer(got)
            if action == "none":
                return Answer([])
            if action == "clear":
                sv.view["got"] = []
                return Redraw(_("photos.cleared"))
        if inp.is_text:
            if thai.is_done(inp.text):
                return Answer(got)
            if thai.command_key(inp.text) in NO_PHOTO_KEYS:
                return Answer([])
        return Retry(_("photos.expect_photo"))

    def _receive(self, ctx: Context, sv: StepView, got: list[dict[str, Any]], message_id: str) -> Outcome:
        try:
            stored = self.store(ctx, message_id)
        except PhotoRejected as rejected:
            return Retry(_(REJECTED_KEYS.get(rejected.reason, REJECTED_KEYS["not_image"])))
        if not any(p["id"] == stored.id for p in got):
            got.append({"id": stored.id, "ok": stored.ok})
        sv.view["got"] = got
        if len(got) >= self.max_photos:
            return Answer(got)
        return Redraw(_("photos.received") if stored.ok else _("photos.missing"))

    # -- showing
    def show(self, ctx: Context, value: Any) -> str:
        if not value:
            return _("photos.none_given")
        missing = sum(1 for p in value if not p.get("ok"))
        shown = _("photos.count", n=len(value))
        if not missing:
            return shown
        return shown + " " + _("photos.count_missing", n=missing)
