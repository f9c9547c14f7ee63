"""Validation of Messaging API requests, done the way the LINE Platform does it.

Two layers, because LINE's published OpenAPI document says less than its servers enforce:

1. The OpenAPI schemas in ``spec/messaging-api.yml``. The document models message, action,
   template and flex types as ``allOf`` inheritance with the ``discriminator`` declared on the
   *base* schema. No Python validator resolves that form (openapi-schema-validator only
   honours a discriminator that sits next to ``oneOf``/``anyOf``/``allOf``), so used as-is
   a text message without ``text`` or a flex box with an unknown component type would pass.
   :class:`SchemaValidator` rewrites the schemas once so that every discriminated base
   dispatches to the subtype its mapping names.
2. :func:`check_limits`: the limits LINE documents only in prose (UTF-16 text lengths,
   label lengths per context, template action counts, flex JSON sizes, URL schemes, ...).
   They run only on bodies that passed the schemas, so they may rely on the shapes the
   schemas guarantee.
"""

from __future__ import annotations

import functools
import json
import re
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from jsonschema import validators
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry
from referencing.jsonschema import DRAFT4

SPEC_DIR = Path(__file__).with_name("spec")
_ROOT_URI = "urn:line-openapi"
_SCHEMA_REF = "#/components/schemas/"
_BASE_SUFFIX = "__base"


@dataclass(frozen=True)
class Problem:
    """One reason a request is rejected, shaped like an entry of LINE's ``details`` array."""

    property: str
    message: str

    def to_detail(self) -> dict[str, str]:
        """Return the ``{"message", "property"}`` object LINE puts in error bodies."""
        return {"message": self.message, "property": self.property}

    def __str__(self) -> str:
        return f"{self.property}: {self.message}" if self.property else self.message


# --------------------------------------------------------------------------------------
# Layer 1: OpenAPI schemas with discriminator resolution
# --------------------------------------------------------------------------------------


def _ref_name(item: Any) -> str | None:
    """Name of the component schema ``item`` references, if it is a plain local ``$ref``."""
    ref = item.get("$ref") if isinstance(item, Mapping) else None
    if isinstance(ref, str) and ref.startswith(_SCHEMA_REF):
        return ref[len(_SCHEMA_REF) :]
    return None


def _split_discriminated_bases(schemas: Mapping[str, Any]) -> dict[str, Any]:
    """Give every discriminated base ``B`` a discriminator-free twin ``B__base``.

    Subtypes inherit from ``B`` through ``allOf``; pointing that inheritance at the twin
    lets ``B`` itself dispatch to the subtype without the subtype dispatching back to
    itself forever.
    """
    bases = {name for name, schema in schemas.items() if "discriminator" in schema}
    result: dict[str, Any] = {}
    for name, schema in schemas.items():
        inherited = schema.get("allOf")
        if inherited:
            schema = {
                **schema,
                "allOf": [
                    {"$ref": item["$ref"] + _BASE_SUFFIX} if _ref_name(item) in bases else item
                    for item in inherited
                ],
            }
        result[name] = schema
        if name in bases:
            result[name + _BASE_SUFFIX] = {k: v for k, v in schema.items() if k != "discriminator"}
    return result


def _dispatch_discriminator(
    validator: Any, discriminator: Mapping[str, Any], instance: Any, _schema: Any
) -> Iterator[ValidationError]:
    """Validate ``instance`` against the subtype its discriminator property selects."""
    if not isinstance(instance, dict):
        return  # the schema's own "type" keyword reports this
    prop = discriminator["propertyName"]
    mapping: Mapping[str, str] = discriminator.get("mapping", {})
    value = instance.get(prop)
    if value is None:
        yield ValidationError("must be specified", path=[prop])
    elif not isinstance(value, str) or value not in mapping:
        allowed = ", ".join(mapping)
        yield ValidationError(f"Must be one of the following values: [{allowed}]", path=[prop])
    else:
        yield from validator.descend(instance, {"$ref": mapping[value]})


def _require_properties(
    _validator: Any, required: Iterable[str], instance: Any, _schema: Any
) -> Iterator[ValidationError]:
    """Report each missing property at its own path, as LINE does (``messages[0].text``)."""
    if isinstance(instance, dict):
        for prop in required:
            if prop not in instance:
                yield ValidationError("must be specified", path=[prop])


_Validator = validators.extend(
    OAS30Validator,
    {"discriminator": _dispatch_discriminator, "required": _require_properties},
)


def _json_path(parts: Iterable[str | int]) -> str:
    """Render a jsonschema path the way LINE names properties: ``messages[0].text``."""
    path = ""
    for part in parts:
        path = _at(path, part)
    return path


def _describe(error: ValidationError) -> str:
    """Turn a jsonschema error into a LINE-style detail message."""
    value = error.validator_value
    if error.validator in ("maxLength", "minLength"):
        return f"Length must be {'at most' if error.validator == 'maxLength' else 'at least'} {value}"
    if error.validator in ("maxItems", "minItems"):
        return f"Size must be {'at most' if error.validator == 'maxItems' else 'at least'} {value}"
    if error.validator == "enum":
        return f"Must be one of the following values: [{', '.join(map(str, value))}]"
    if error.validator == "type":
        return f"must be of type {value}"
    return str(error.message)


class SchemaValidator:
    """Validates JSON against the component schemas of one OpenAPI 3.0 document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        schemas = _split_discriminated_bases(document["components"]["schemas"])
        root = {"components": {"schemas": schemas}}
        self._registry = Registry().with_resource(_ROOT_URI, DRAFT4.create_resource(root))
        self._paths: Mapping[str, Any] = document.get("paths", {})
        self._schema_names = frozenset(schemas)
        self._validators: dict[str, Any] = {}

    def _validator_for(self, schema_name: str) -> Any:
        """Compiled validator for one schema; built on first use (a racing rebuild is harmless)."""
        if schema_name not in self._validators:
            if schema_name not in self._schema_names:
                raise KeyError(f"unknown schema {schema_name!r}")
            self._validators[schema_name] = _Validator(
                {"$ref": f"{_ROOT_URI}{_SCHEMA_REF}{schema_name}"},
                registry=self._registry,
                format_checker=oas30_format_checker,
            )
        return self._validators[schema_name]

    def validate(self, schema_name: str, instance: Any) -> list[Problem]:
        """Return every problem with ``instance`` as component schema ``schema_name``."""
        errors = self._validator_for(schema_name).iter_errors(instance)
        problems = (Problem(_json_path(e.absolute_path), _describe(e)) for e in errors)
        return list(dict.fromkeys(problems))  # a base's "required" and dispatch may repeat

    def request_schema(self, method: str, path_template: str) -> str | None:
        """Name of the JSON request-body schema of an operation, or None if it takes none."""
        operation = self._paths.get(path_template, {}).get(method.lower(), {})
        content = operation.get("requestBody", {}).get("content", {})
        return _ref_name(content.get("application/json", {}).get("schema"))


@functools.cache
def _load(spec_file: str) -> SchemaValidator:
    with (SPEC_DIR / spec_file).open(encoding="utf-8") as stream:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return SchemaValidator(yaml.load(stream, Loader=loader))


def messaging_schemas() -> SchemaValidator:
    """The Messaging API document, parsed and compiled once per process."""
    return _load("messaging-api.yml")


def webhook_schemas() -> SchemaValidator:
    """The webhook document (``CallbackRequest`` and events), parsed once per process."""
    return _load("webhook.yml")


# --------------------------------------------------------------------------------------
# Layer 2: limits LINE documents only in prose
# --------------------------------------------------------------------------------------

Problems = Iterator[Problem]

USER_ID = re.compile(r"U[0-9a-f]{32}")
PUSH_TARGET = re.compile(r"[UCR][0-9a-f]{32}")
MAX_MESSAGE_TEXT = 5000
MAX_ALT_TEXT = 1500
MAX_URL = 2000
FLEX_BUBBLE_MAX_BYTES = 30 * 1024
FLEX_CAROUSEL_MAX_BYTES = 50 * 1024
URI_SCHEMES = ("http", "https", "line", "tel")
QUICK_REPLY_ACTIONS = frozenset(
    {"postback", "message", "uri", "datetimepicker", "camera", "cameraRoll", "location", "clipboard"}
)
#: Rich menu image sizes LINE accepts (width, height).
RICH_MENU_IMAGE_SIZES = frozenset(
    {(2500, 1686), (2500, 843), (1200, 810), (1200, 405), (800, 540), (800, 270)}
)
RICH_MENU_IMAGE_MAX_BYTES = 1024 * 1024


@dataclass(frozen=True)
class LabelRule:
    """How long an action label may be, and whether it is required, in one context."""

    maximum: int
    required: bool


QUICK_REPLY_LABEL = LabelRule(20, required=True)
TEMPLATE_LABEL = LabelRule(20, required=True)
IMAGE_CAROUSEL_LABEL = LabelRule(12, required=False)
OPTIONAL_LABEL = LabelRule(20, required=False)  # default actions, rich menu areas
FLEX_BUTTON_LABEL = LabelRule(40, required=True)
FLEX_LABEL = LabelRule(40, required=False)  # box/image/text actions: the label is not shown


def _at(path: str, key: str | int) -> str:
    """Extend a LINE property path by one object key or array index."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit LINE counts characters in (emoji count 2)."""
    return len(text.encode("utf-16-le")) // 2


def _check_length(
    value: str | None, path: str, maximum: int, *, minimum: int = 1, required: bool = True
) -> Problems:
    if value is None:
        if required:
            yield Problem(path, "must be specified")
        return
    if not minimum <= utf16_length(value) <= maximum:
        yield Problem(path, f"Length must be between {minimum} and {maximum}")


def _check_count(items: list[Any] | None, path: str, minimum: int, maximum: int) -> Problems:
    if items is None:
        yield Problem(path, "must be specified")
    elif not minimum <= len(items) <= maximum:
        yield Problem(path, f"Size must be between {minimum} and {maximum}")


def _check_https_url(url: str | None, path: str, *, required: bool = True) -> Problems:
    if url is None:
        if required:
            yield Problem(path, "must be specified")
    elif not url.startswith("https://") or len(url) > MAX_URL:
        yield Problem(path, f"must be an HTTPS URL of at most {MAX_URL} characters")


def _json_size(value: Any) -> int:
    """Size in bytes of the compact UTF-8 JSON LINE measures flex containers by."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _no_checks(_obj: Mapping[str, Any], _path: str) -> Problems:
    return iter(())


# ---- actions ---------------------------------------------------------------------------


def check_action(action: Mapping[str, Any], path: str, label: LabelRule) -> Problems:
    """Check one action object; ``label`` carries the limit of the context it appears in."""
    yield from _check_length(action.get("label"), _at(path, "label"), label.maximum, required=label.required)
    yield from _ACTION_CHECKS.get(action["type"], _no_checks)(action, path)


def _check_actions(actions: list[Mapping[str, Any]], path: str, label: LabelRule) -> Problems:
    for index, action in enumerate(actions):
        yield from check_action(action, _at(path, index), label)


def _check_postback(action: Mapping[str, Any], path: str) -> Problems:
    yield from _check_length(action.get("data"), _at(path, "data"), 300)
    yield from _check_length(action.get("displayText"), _at(path, "displayText"), 300, required=False)
    yield from _check_length(action.get("text"), _at(path, "text"), 300, required=False)
    if "displayText" in action and "text" in action:
        yield Problem(_at(path, "text"), "cannot be specified together with displayText")


def _check_message_action(action: Mapping[str, Any], path: str) -> Problems:
    yield from _check_length(action.get("text"), _at(path, "text"), 300)


def _check_uri_action(action: Mapping[str, Any], path: str) -> Problems:
    uri = action.get("uri")
    yield from _check_length(uri, _at(path, "uri"), 1000)
    if uri is not None and uri.partition(":")[0].lower() not in URI_SCHEMES:
        yield Problem(_at(path, "uri"), f"scheme must be one of {', '.join(URI_SCHEMES)}")


_PICKER_FORMATS = {
    "date": ("%Y-%m-%d", re.compile(r"\d{4}-\d{2}-\d{2}")),
    "time": ("%H:%M", re.compile(r"\d{2}:\d{2}")),
    "datetime": ("%Y-%m-%dT%H:%M", re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}")),
}
_PICKER_RANGE = (datetime(1900, 1, 1), datetime(2100, 12, 31, 23, 59))


def _parse_picker_value(mode: str, value: str) -> datetime | None:
    """Parse a datetime picker bound in ``mode``'s format; None when LINE would reject it."""
    fmt, shape = _PICKER_FORMATS[mode]
    if not shape.fullmatch(value):
        return None
    try:
        parsed = datetime.strptime(value.replace("t", "T"), fmt)
    except ValueError:
        return None
    if mode != "time" and not _PICKER_RANGE[0] <= parsed <= _PICKER_RANGE[1]:
        return None
    return parsed


def _check_datetimepicker(action: Mapping[str, Any], path: str) -> Problems:
    yield from _check_length(action.get("data"), _at(path, "data"), 300)
    mode = action.get("mode")
    if mode is None:
        yield Problem(_at(path, "mode"), "must be specified")
        return
    bounds: dict[str, datetime] = {}
    for key in ("initial", "max", "min"):
        if key in action:
            parsed = _parse_picker_value(mode, action[key])
            if parsed is None:
                yield Problem(_at(path, key), f"invalid format for mode {mode}")
            else:
                bounds[key] = parsed
    initial = bounds.get("initial")
    if "min" in bounds and "max" in bounds and bounds["min"] >= bounds["max"]:
        yield Problem(_at(path, "max"), "must be later than min")
    elif initial and not bounds.get("min", initial) <= initial <= bounds.get("max", initial):
        yield Problem(_at(path, "initial"), "must be between min and max")


def _check_richmenuswitch(action: Mapping[str, Any], path: str) -> Problems:
    yield from _check_length(action.get("data"), _at(path, "data"), 300)
    yield from _check_length(action.get("richMenuAliasId"), _at(path, "richMenuAliasId"), 32)


_ACTION_CHECKS: dict[str, Callable[[Mapping[str, Any], str], Problems]] = {
    "postback": _check_postback,
    "message": _check_message_action,
    "uri": _check_uri_action,
    "datetimepicker": _check_datetimepicker,
    "richmenuswitch": _check_richmenuswitch,
}


# ---- messages --------------------------------------------------------------------------


def _check_text(message: Mapping[str, Any], path: str) -> Problems:
    yield from _check_length(message["text"], _at(path, "text"), MAX_MESSAGE_TEXT)


def _check_alt_text(message: Mapping[str, Any], path: str) -> Problems:
    yield from _check_length(message["altText"], _at(path, "altText"), MAX_ALT_TEXT)


def _check_media(message: Mapping[str, Any], path: str) -> Problems:
    for key in ("originalContentUrl", "previewImageUrl"):
        yield from _check_https_url(message.get(key), _at(path, key), required=False)


def _check_location(message: Mapping[str, Any], path: str) -> Problems:
    yield from _check_length(message["title"], _at(path, "title"), 100)
    yield from _check_length(message["address"], _at(path, "address"), 100)


def _check_imagemap(message: Mapping[str, Any], path: str) -> Problems:
    yield from _check_alt_text(message, path)
    yield from _check_https_url(message["baseUrl"], _at(path, "baseUrl"))


def _check_quick_reply(quick_reply: Mapping[str, Any], path: str) -> Problems:
    items_path = _at(path, "items")
    items = quick_reply.get("items")
    yield from _check_count(items, items_path, 1, 13)
    for index, item in enumerate(items or ()):
        item_path = _at(items_path, index)
        if item.get("type") != "action":
            yield Problem(_at(item_path, "type"), "must be action")
        action = item.get("action")
        if action is None:
            yield Problem(_at(item_path, "action"), "must be specified")
            continue
        if action["type"] not in QUICK_REPLY_ACTIONS:
            yield Problem(_at(item_path, "action.type"), "is not allowed in a quick reply")
        yield from check_action(action, _at(item_path, "action"), QUICK_REPLY_LABEL)


# ---- templates -------------------------------------------------------------------------


def _check_template_message(message: Mapping[str, Any], path: str) -> Problems:
    yield from _check_alt_text(message, path)
    template = message["template"]
    yield from _TEMPLATE_CHECKS[template["type"]](template, _at(path, "template"))


def _check_button_like(obj: Mapping[str, Any], path: str, *, text_max: int, actions_max: int) -> Problems:
    """Shared rules of the buttons template and carousel columns (title, text, image, actions)."""
    has_header = "thumbnailImageUrl" in obj or "title" in obj
    yield from _check_length(obj.get("title"), _at(path, "title"), 40, required=False)
    yield from _check_length(obj["text"], _at(path, "text"), 60 if has_header else text_max)
    yield from _check_https_url(obj.get("thumbnailImageUrl"), _at(path, "thumbnailImageUrl"), required=False)
    yield from _check_count(obj["actions"], _at(path, "actions"), 1, actions_max)
    yield from _check_actions(obj["actions"], _at(path, "actions"), TEMPLATE_LABEL)
    if "defaultAction" in obj:
        yield from check_action(obj["defaultAction"], _at(path, "defaultAction"), OPTIONAL_LABEL)


def _check_buttons(template: Mapping[str, Any], path: str) -> Problems:
    yield from _check_button_like(template, path, text_max=160, actions_max=4)


def _check_confirm(template: Mapping[str, Any], path: str) -> Problems:
    yield from _check_length(template["text"], _at(path, "text"), 240)
    yield from _check_count(template["actions"], _at(path, "actions"), 2, 2)
    yield from _check_actions(template["actions"], _at(path, "actions"), TEMPLATE_LABEL)


def _check_carousel(template: Mapping[str, Any], path: str) -> Problems:
    columns = template["columns"]
    columns_path = _at(path, "columns")
    yield from _check_count(columns, columns_path, 1, 10)
    for index, column in enumerate(columns):
        yield from _check_button_like(column, _at(columns_path, index), text_max=120, actions_max=3)
    if len({len(column["actions"]) for column in columns}) > 1:
        yield Problem(columns_path, "all columns must have the same number of actions")


def _check_image_carousel(template: Mapping[str, Any], path: str) -> Problems:
    columns = template["columns"]
    columns_path = _at(path, "columns")
    yield from _check_count(columns, columns_path, 1, 10)
    for index, column in enumerate(columns):
        column_path = _at(columns_path, index)
        yield from _check_https_url(column["imageUrl"], _at(column_path, "imageUrl"))
        yield from check_action(column["action"], _at(column_path, "action"), IMAGE_CAROUSEL_LABEL)


_TEMPLATE_CHECKS: dict[str, Callable[[Mapping[str, Any], str], Problems]] = {
    "buttons": _check_buttons,
    "confirm": _check_confirm,
    "carousel": _check_carousel,
    "image_carousel": _check_image_carousel,
}


# ---- flex ------------------------------------------------------------------------------

_FLEX_CHILD_KEYS = ("header", "hero", "body", "footer", "altContent")


def _check_flex_message(message: Mapping[str, Any], path: str) -> Problems:
    yield from _check_alt_text(message, path)
    container = message["contents"]
    container_path = _at(path, "contents")
    if container["type"] == "bubble":
        yield from _check_bubble(container, container_path)
        return
    bubbles = container["contents"]
    bubbles_path = _at(container_path, "contents")
    yield from _check_count(bubbles, bubbles_path, 1, 12)
    if _json_size(container) > FLEX_CAROUSEL_MAX_BYTES:
        yield Problem(container_path, f"carousel JSON must be at most {FLEX_CAROUSEL_MAX_BYTES} bytes")
    for index, bubble in enumerate(bubbles):
        bubble_path = _at(bubbles_path, index)
        if bubble["type"] != "bubble":
            yield Problem(_at(bubble_path, "type"), "must be bubble")
        yield from _check_bubble(bubble, bubble_path)


def _check_bubble(bubble: Mapping[str, Any], path: str) -> Problems:
    if _json_size(bubble) > FLEX_BUBBLE_MAX_BYTES:
        yield Problem(path, f"bubble JSON must be at most {FLEX_BUBBLE_MAX_BYTES} bytes")
    yield from _check_flex_node(bubble, path)


def _check_flex_node(node: Mapping[str, Any], path: str) -> Problems:
    """Check a bubble or component and everything below it (actions, image URLs, text)."""
    kind = node.get("type")
    if "action" in node:
        rule = FLEX_BUTTON_LABEL if kind == "button" else FLEX_LABEL
        yield from check_action(node["action"], _at(path, "action"), rule)
    if kind == "image":
        yield from _check_https_url(node["url"], _at(path, "url"))
    if kind == "text" and "text" not in node and not node.get("contents"):
        yield Problem(_at(path, "text"), "must be specified")
    for key in _FLEX_CHILD_KEYS:
        if key in node:
            yield from _check_flex_node(node[key], _at(path, key))
    if kind == "box":
        for index, child in enumerate(node["contents"]):
            yield from _check_flex_node(child, _at(_at(path, "contents"), index))


_MESSAGE_CHECKS: dict[str, Callable[[Mapping[str, Any], str], Problems]] = {
    "text": _check_text,
    "textV2": _check_text,
    "image": _check_media,
    "video": _check_media,
    "audio": _check_media,
    "location": _check_location,
    "imagemap": _check_imagemap,
    "template": _check_template_message,
    "flex": _check_flex_message,
}


def _check_messages(messages: list[Mapping[str, Any]]) -> Problems:
    for index, message in enumerate(messages):
        path = _at("messages", index)
        yield from _MESSAGE_CHECKS.get(message["type"], _no_checks)(message, path)
        if "quickReply" in message:
            yield from _check_quick_reply(message["quickReply"], _at(path, "quickReply"))


# ---- request bodies --------------------------------------------------------------------


def _check_reply(body: Mapping[str, Any]) -> Problems:
    yield from _check_messages(body["messages"])


def _check_push(body: Mapping[str, Any]) -> Problems:
    if not PUSH_TARGET.fullmatch(body["to"]):
        yield Problem("to", "must be a user, group or room ID")
    yield from _check_messages(body["messages"])


def _check_multicast(body: Mapping[str, Any]) -> Problems:
    for index, user_id in enumerate(body["to"]):
        if not USER_ID.fullmatch(user_id):
            yield Problem(_at("to", index), "must be a user ID")
    yield from _check_messages(body["messages"])


def _check_rich_menu(body: Mapping[str, Any]) -> Problems:
    for key in ("size", "selected", "name", "chatBarText", "areas"):
        if key not in body:
            yield Problem(key, "must be specified")
    if "size" in body:
        yield from _check_rich_menu_size(body["size"])
    areas = body.get("areas", [])
    yield from _check_count(areas, "areas", 0, 20)
    for index, area in enumerate(areas):
        area_path = _at("areas", index)
        for key in ("bounds", "action"):
            if key not in area:
                yield Problem(_at(area_path, key), "must be specified")
        if "action" in area:
            yield from check_action(area["action"], _at(area_path, "action"), OPTIONAL_LABEL)


def _check_rich_menu_size(size: Mapping[str, Any]) -> Problems:
    width, height = size.get("width"), size.get("height")
    if width is None or height is None:
        yield Problem("size", "width and height must be specified")
    elif not (800 <= width <= 2500 and height >= 250 and width / height >= 1.45):
        yield Problem("size", "width must be 800-2500, height at least 250, width/height at least 1.45")


def _check_loading(body: Mapping[str, Any]) -> Problems:
    if not USER_ID.fullmatch(body["chatId"]):
        yield Problem("chatId", "must be the user ID of a one-on-one chat")
    if body.get("loadingSeconds", 5) % 5:
        yield Problem("loadingSeconds", "must be a multiple of 5")


_LIMITS: dict[str, Callable[[Mapping[str, Any]], Problems]] = {
    "ReplyMessageRequest": _check_reply,
    "ValidateMessageRequest": _check_reply,
    "PushMessageRequest": _check_push,
    "MulticastRequest": _check_multicast,
    "RichMenuRequest": _check_rich_menu,
    "ShowLoadingAnimationRequest": _check_loading,
}


def check_limits(schema_name: str, body: Mapping[str, Any]) -> list[Problem]:
    """LINE's prose-only limits for a request body that already passed ``schema_name``."""
    check = _LIMITS.get(schema_name)
    return list(check(body)) if check is not None else []


def validate_body(schema_name: str, body: Any) -> list[Problem]:
    """Both layers for a Messaging API request body: schema first, limits if it passed."""
    problems = messaging_schemas().validate(schema_name, body)
    return problems or check_limits(schema_name, body)


# ---- images --------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class ImageInfo(NamedTuple):
    """What LINE checks about an uploaded image, read from its header bytes."""

    content_type: str
    size: tuple[int, int]  # (width, height)


def image_info(data: bytes) -> ImageInfo | None:
    """Format and size of a PNG or JPEG image, or None if ``data`` is neither."""
    if data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return ImageInfo("image/png", (width, height))
    if data.startswith(b"\xff\xd8"):
        size = _jpeg_size(data)
        return ImageInfo("image/jpeg", size) if size is not None else None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk JPEG segments to the start-of-frame marker, which holds the image size."""
    offset = 2
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            return None
        marker = data[offset + 1]
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        if marker in _JPEG_SOF_MARKERS and offset + 9 <= len(data):
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
            return width, height
        offset += 2 + length
    return None
