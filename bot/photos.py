"""Photos a person sends: keep a LINE image, downloaded as it arrived, in the media store.

LINE keeps user content only for a while, so a photo is fetched while the
person is still reporting. The bytes go to the media store (bot.media: the
instance folder, or S3 shared by every host), the metadata to `report_photos`. A failed download never loses the report: the row
is kept, marked missing, and the conversation moves on.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from .context import Context
from .media import media_store
from .models import PhotoStatus, ReportPhoto

log = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 10 * 1024 * 1024  # LINE sends compressed photos far below this; more is not a photo
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
              "image/heic": "heic"}
# Leading bytes of the formats LINE delivers; the header alone is not trusted with what lands on disk.
SIGNATURES = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",),
              "image/gif": (b"GIF87a", b"GIF89a"), "image/webp": (b"RIFF",)}


class PhotoRejected(Exception):
    """The content is not something we keep (too big, not an image); nothing was stored."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "too_large" | "not_image"


@dataclass(frozen=True)
class StoredPhoto:
    id: int
    ok: bool  # False: the row exists but the bytes could not be fetched


def store_report_photo(ctx: Context, message_id: str) -> StoredPhoto:
    """Fetch one image message now and record it for the member's report in progress.

    Raises PhotoRejected for content we must not keep; returns a missing-photo
    row when LINE could not give us the bytes (404/410/timeout).
    """
    member = ctx.member
    assert member is not None
    # The same message can reach us twice only through a retried event; reuse its row.
    existing = ctx.session.scalar(select(ReportPhoto).where(ReportPhoto.line_message_id == message_id))
    if existing is not None:
        if existing.member_id != member.id:  # message ids are LINE-wide unique: this is forged input
            log.error("photo message %s already belongs to another member", message_id)
            raise PhotoRejected("not_image")
        return StoredPhoto(existing.id, existing.status is PhotoStatus.STORED)

    # Downloaded before this event's transaction opened (bot.lineport): never under the lock.
    content = ctx.line.content(message_id)
    status, data, content_type = (content.status, content.data, content.content_type) if content else (0, None, None)
    media_type = (content_type or "").split(";")[0].strip().lower()
    if status != 200 or data is None:
        # 0 is "no answer" (timeout, refused): LINE may still have it, but the
        # person is waiting now; the row records the attempt so operators can see it.
        log.warning("photo %s not downloaded: status %s", message_id, status)
        photo = ReportPhoto(member_id=member.id, line_message_id=message_id, status=PhotoStatus.MISSING,
                            error=f"download failed: HTTP {status}" if status else "download failed: no answer")
        ctx.session.add(photo)
        ctx.session.flush()
        return StoredPhoto(photo.id, False)
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRejected("too_large")
    if not media_type.startswith("image/") or not _looks_like(media_type, data):
        raise PhotoRejected("not_image")

    relative = _write(ctx, data, media_type)
    photo = ReportPhoto(member_id=member.id, line_message_id=message_id, status=PhotoStatus.STORED,
                        path=relative, content_type=media_type, size_bytes=len(data))
    ctx.session.add(photo)
    ctx.session.flush()
    return StoredPhoto(photo.id, True)


def _looks_like(media_type: str, data: bytes) -> bool:
    signatures = SIGNATURES.get(media_type)
    if signatures is None:  # a format we have no signature for (e.g. HEIC): trust LINE's header
        return bool(data)
    return data.startswith(signatures)


def _write(ctx: Context, data: bytes, media_type: str) -> str:
    """Store the bytes under a new key (whole or not at all, see bot.media) and return the key.

    They are stored before the transaction commits; if it then rolls back they are an orphan
    without a row, which housekeeping's orphan sweep removes.
    """
    local = ctx.local_now
    key = f"reports/{local:%Y}/{local:%m}/{uuid.uuid4().hex}.{EXTENSIONS.get(media_type, 'img')}"
    media_store(ctx.settings).put(key, data, media_type)
    return key
