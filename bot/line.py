"""The LINE gateway: the only module that calls LINE's API classes.

Everything else hands it SDK message models. Configuration's `host` points the
messaging AND data (blob) APIs at LINE_API_BASE_URL when one is set (the
emulator); with LINE's default each API keeps its own host.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from urllib3 import Retry
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
    RichMenuRequest,
    RichMenuResponse,
    UserProfileResponse,
)

from .config import LINE_API_DEFAULT, Settings

log = logging.getLogger(__name__)
TIMEOUT = (3.05, 10)  # connect, read (seconds)


@dataclass(frozen=True)
class Quota:
    """This month's message quota: `limit` None means unlimited (LINE's type "none")."""

    limit: int | None
    used: int

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)


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
        config = Configuration(host=host, access_token=settings.channel_access_token or "unset")
        # urllib3 would repeat a GET whose answer timed out (3 times by default), multiplying a
        # read's timeout: a read that timed out is not asked again (POSTs are never re-sent on a
        # read timeout anyway). A failed connection is tried once more, so one request takes at
        # most 2 × connect + read: the outbox lease (delivery/sender.py) and lineport's short
        # reads are sized on that.
        config.retries = Retry(total=1, read=0)
        self._client = ApiClient(config)
        self.api = MessagingApi(self._client)
        self.blob = MessagingApiBlob(self._client)
        self.rich_menus = RichMenuGateway(self)
        # Per instance so a test (or a slow link) can shorten or lengthen it.
        self.timeout: tuple[float, float] = TIMEOUT

    def close(self) -> None:
        self._client.close()

    def reply(self, reply_token: str, messages: list[Message]) -> SendResult:
        return self._call(lambda: self.api.reply_message_with_http_info(
            ReplyMessageRequest(reply_token=reply_token, messages=messages), _request_timeout=self.timeout))

    def push(self, to: str, messages: list[Message], retry_key: str) -> SendResult:
        return self._call(lambda: self.api.push_message_with_http_info(
            PushMessageRequest(to=to, messages=messages), x_line_retry_key=retry_key, _request_timeout=self.timeout))

    def multicast(self, to: list[str], messages: list[Message], retry_key: str) -> SendResult:
        return self._call(lambda: self.api.multicast_with_http_info(
            MulticastRequest(to=to, messages=messages), x_line_retry_key=retry_key, _request_timeout=self.timeout))

    def profile(self, user_id: str, *, timeout: tuple[float, float] | None = None) -> UserProfileResponse | None:
        try:
            return self.api.get_profile(user_id, _request_timeout=timeout or self.timeout)
        except (ApiException, OSError, TransportError) as exc:
            log.warning("profile lookup failed: %s", getattr(exc, "status", exc))
            return None

    def group_summary(self, group_id: str, *,
                      timeout: tuple[float, float] | None = None) -> GroupSummaryResponse | None:
        try:
            return self.api.get_group_summary(group_id, _request_timeout=timeout or self.timeout)
        except (ApiException, OSError, TransportError) as exc:
            log.warning("group summary failed: %s", getattr(exc, "status", exc))
            return None

    def quota(self, *, timeout: tuple[float, float] | None = None) -> Quota | None:
        """The month's quota and consumption, or None when LINE can't be asked right now."""
        timeout = timeout or self.timeout
        try:
            limit = self.api.get_message_quota(_request_timeout=timeout)
            used = self.api.get_message_quota_consumption(_request_timeout=timeout)
        except (ApiException, OSError, TransportError) as exc:
            log.warning("quota lookup failed: %s", getattr(exc, "status", exc))
            return None
        return Quota(limit.value if limit.type == "limited" else None, used.total_usage or 0)

    def content(self, message_id: str, *,
                timeout: tuple[float, float] | None = None) -> tuple[int, bytes | None, str | None]:
        """Download a message's content: (status, bytes, content type); status 0 is no answer."""
        try:
            resp = self.blob.get_message_content_with_http_info(message_id,
                                                                _request_timeout=timeout or self.timeout)
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


class LineApiError(RuntimeError):
    """LINE refused an operator call (rich menus): the status and LINE's own explanation."""

    def __init__(self, operation: str, status: int, body: str) -> None:
        super().__init__(f"{operation}: LINE answered {status}: {body[:500]}")
        self.status = status
        self.body = body


class RichMenuGateway:
    """Rich menu calls, for `khabuan richmenu deploy` (an operator command, so failures raise)."""

    def __init__(self, gateway: LineGateway) -> None:
        self._gateway = gateway

    def _run(self, operation: str, fn):
        try:
            return fn()
        except ApiException as exc:
            raise LineApiError(operation, exc.status or 0, str(exc.body or exc.reason)) from None
        except (OSError, TransportError) as exc:
            raise LineApiError(operation, 0, f"network: {exc}") from None

    def create(self, menu: RichMenuRequest) -> str:
        timeout = self._gateway.timeout
        return self._run("create rich menu",
                         lambda: self._gateway.api.create_rich_menu(menu, _request_timeout=timeout).rich_menu_id)

    def upload_image(self, rich_menu_id: str, data: bytes, content_type: str) -> None:
        # The SDK would guess no content type for raw bytes; LINE needs image/png or image/jpeg.
        self._run("upload rich menu image", lambda: self._gateway.blob.set_rich_menu_image(
            rich_menu_id, data, _headers={"Content-Type": content_type}, _request_timeout=self._gateway.timeout))

    def set_default(self, rich_menu_id: str) -> None:
        self._run("set default rich menu", lambda: self._gateway.api.set_default_rich_menu(
            rich_menu_id, _request_timeout=self._gateway.timeout))

    def list(self) -> list[RichMenuResponse]:
        response = self._run("list rich menus",
                             lambda: self._gateway.api.get_rich_menu_list(_request_timeout=self._gateway.timeout))
        return list(response.richmenus or [])

    def delete(self, rich_menu_id: str) -> None:
        self._run("delete rich menu", lambda: self._gateway.api.delete_rich_menu(
            rich_menu_id, _request_timeout=self._gateway.timeout))

    def image(self, rich_menu_id: str) -> bytes:
        data = self._run("download rich menu image", lambda: self._gateway.blob.get_rich_menu_image(
            rich_menu_id, _request_timeout=self._gateway.timeout))
        return bytes(data)

    def default_id(self) -> str | None:
        """The default rich menu's id, or None when there is none (LINE answers 404)."""
        try:
            return self._gateway.api.get_default_rich_menu_id(_request_timeout=self._gateway.timeout).rich_menu_id
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise LineApiError("get default rich menu", exc.status or 0, str(exc.body or exc.reason)) from None
