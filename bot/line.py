"""The LINE gateway: the only module that calls LINE's API classes.

Everything else hands it SDK message models. Configuration's `host` points the
messaging AND data (blob) APIs at LINE_API_BASE_URL when one is set (the
emulator); with LINE's default each API keeps its own host.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from urllib3.exceptions import HTTPError as TransportError

from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    GroupSummaryResponse,
    Message,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
    UserProfileResponse,
)

from .config import LINE_API_DEFAULT, Settings

log = logging.getLogger(__name__)
TIMEOUT = (3.05, 10)  # connect, read (seconds)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status: int
    error: str | None = None
    retry_after: float | None = None

    @property
    def duplicate(self) -> bool:
        """LINE already accepted this retry key: the message was delivered before."""
        return self.status == 409


class LineGateway:
    def __init__(self, settings: Settings) -> None:
        host = None if settings.line_api_base_url == LINE_API_DEFAULT else settings.line_api_base_url
        self._client = ApiClient(Configuration(host=host, access_token=settings.channel_access_token or "unset"))
        self.api = MessagingApi(self._client)
        self.blob = MessagingApiBlob(self._client)

    def close(self) -> None:
        self._client.close()

    def reply(self, reply_token: str, messages: list[Message]) -> SendResult:
        return self._call(lambda: self.api.reply_message_with_http_info(
            ReplyMessageRequest(reply_token=reply_token, messages=messages), _request_timeout=TIMEOUT))

    def push(self, to: str, messages: list[Message], retry_key: str) -> SendResult:
        return self._call(lambda: self.api.push_message_with_http_info(
            PushMessageRequest(to=to, messages=messages), x_line_retry_key=retry_key, _request_timeout=TIMEOUT))

    def multicast(self, to: list[str], messages: list[Message], retry_key: str) -> SendResult:
        return self._call(lambda: self.api.multicast_with_http_info(
            MulticastRequest(to=to, messages=messages), x_line_retry_key=retry_key, _request_timeout=TIMEOUT))

    def profile(self, user_id: str) -> UserProfileResponse | None:
        try:
            return self.api.get_profile(user_id, _request_timeout=TIMEOUT)
        except (ApiException, OSError, TransportError) as exc:
            log.warning("profile lookup failed: %s", getattr(exc, "status", exc))
            return None

    def group_summary(self, group_id: str) -> GroupSummaryResponse | None:
        try:
            return self.api.get_group_summary(group_id, _request_timeout=TIMEOUT)
        except (ApiException, OSError, TransportError) as exc:
            log.warning("group summary failed: %s", getattr(exc, "status", exc))
            return None

    def content(self, message_id: str) -> tuple[int, bytes | None, str | None]:
        """Download a message's content: (status, bytes, content type)."""
        try:
            resp = self.blob.get_message_content_with_http_info(message_id, _request_timeout=TIMEOUT)
            return 200, bytes(resp.data), resp.headers.get("Content-Type") if resp.headers else None
        except ApiException as exc:
            return exc.status or 0, None, None
        except (OSError, TransportError) as exc:  # timeouts, refused connections
            log.warning("content download failed: %s", exc)
            return 0, None, None

    def _call(self, fn) -> SendResult:
        try:
            fn()
            return SendResult(True, 200)
        except ApiException as exc:
            retry_after = None
            if exc.headers and exc.headers.get("Retry-After"):
                try:
                    retry_after = float(exc.headers["Retry-After"])
                except ValueError:
                    pass
            if exc.status == 409:
                return SendResult(True, 409)
            # The body names the offending property; it holds no personal data.
            log.log(logging.ERROR if exc.status == 400 else logging.WARNING,
                    "LINE API %s: %s", exc.status, (exc.body or "")[:500])
            return SendResult(False, exc.status or 0, str(exc.body or exc.reason)[:500], retry_after)
        except (OSError, TransportError) as exc:
            log.warning("LINE API unreachable: %s", exc)
            return SendResult(False, 0, f"network: {exc}")
