"""LINE Login v2.1 (OpenID Connect) for the emulator: discovery, authorize, token, certs, verify.

The web console's "Sign in with LINE" is tested offline and works in the simulator against this.
It behaves as LINE's provider does for a web app: the authorization code is single use, bound to
the client and its redirect URI, and expires; the token endpoint takes the client's id and secret
in the form (client_secret_post); the ID token is an ES256 JWT whose key is published at
``jwks_uri``, carrying ``iss``, ``sub`` (the LINE user id, the same the Messaging API sees),
``aud`` (the channel id), ``exp``, ``iat``, ``nonce`` and ``name``.

Who signs in: ``?user=<LINE user id>`` on the authorize URL approves at once as that person
(tests, and the chooser page's links); else the provider's ``login_as`` if set; else a small page
lists the profiles the emulator knows (the simulator's personas) to pick from, as LINE's own
consent screen would stand between the browser and the app.
"""
from __future__ import annotations

import html
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from werkzeug.wrappers import Request, Response

CODE_TTL = 600.0
TOKEN_TTL = 30 * 24 * 3600
ID_TOKEN_TTL = 3600


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    user_id: str
    nonce: str | None
    scope: str
    issued_at: float
    used: bool = False


class LoginProvider:
    """The OpenID provider half of the emulator; `handle` answers the paths it owns."""

    PATHS = ("/.well-known/openid-configuration", "/oauth2/v2.1/")

    def __init__(self, profiles: Any) -> None:
        self._profiles = profiles  # callable: {user_id: display_name} the emulator knows
        self._lock = threading.Lock()
        self._channels: dict[str, str] = {}
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, tuple[str, str, float]] = {}  # token -> (client_id, scope, expires)
        self._key = ECKey.generate_key("P-256", parameters={"kid": secrets.token_hex(8), "use": "sig",
                                                            "alg": "ES256"})
        self.login_as: str | None = None

    def set_channel(self, channel_id: str, secret: str) -> None:
        with self._lock:
            self._channels[channel_id] = secret

    def reset(self) -> None:
        with self._lock:
            self._codes.clear()
            self._access.clear()
        self.login_as = None

    def owns(self, path: str) -> bool:
        return path == self.PATHS[0] or path.startswith(self.PATHS[1])

    # ---- the endpoints ---------------------------------------------------------------------

    def handle(self, request: Request, base_url: str) -> tuple[int, Response]:
        routes = {("GET", "/.well-known/openid-configuration"): self._discovery,
                  ("GET", "/oauth2/v2.1/authorize"): self._authorize,
                  ("POST", "/oauth2/v2.1/token"): self._token,
                  ("GET", "/oauth2/v2.1/certs"): self._certs,
                  ("POST", "/oauth2/v2.1/verify"): self._verify_id_token,
                  ("GET", "/oauth2/v2.1/verify"): self._verify_access_token}
        handler = routes.get((request.method, request.path))
        if handler is None:
            return 404, _json({"error": "not_found"}, 404)
        response = handler(request, base_url)
        return response.status_code, response

    def _discovery(self, _request: Request, base: str) -> Response:
        return _json({
            "issuer": base, "authorization_endpoint": f"{base}/oauth2/v2.1/authorize",
            "token_endpoint": f"{base}/oauth2/v2.1/token", "jwks_uri": f"{base}/oauth2/v2.1/certs",
            "response_types_supported": ["code"], "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
        })

    def _authorize(self, request: Request, _base: str) -> Response:
        args = request.args
        client_id, redirect_uri, state = args.get("client_id", ""), args.get("redirect_uri", ""), args.get("state")
        with self._lock:
            known = client_id in self._channels
        if not known or not redirect_uri.startswith(("http://", "https://")):
            return _json({"error": "invalid_request", "error_description": "unknown client or redirect_uri"}, 400)
        if args.get("response_type") != "code" or "openid" not in args.get("scope", "").split() or not state:
            return _redirect(redirect_uri, {"error": "invalid_request", "state": state or ""})
        user_id = args.get("user") or self.login_as
        if not user_id:
            return self._chooser(request)
        if args.get("deny"):
            return _redirect(redirect_uri, {"error": "access_denied", "state": state})
        code = secrets.token_urlsafe(20)
        with self._lock:
            self._codes[code] = _Code(client_id, redirect_uri, user_id, args.get("nonce"), args.get("scope", ""),
                                      time.time())
        return _redirect(redirect_uri, {"code": code, "state": state})

    def _chooser(self, request: Request) -> Response:
        people = self._profiles()
        base = request.url + ("&" if "?" in request.url else "?")
        items = "".join(f'<li><a href="{html.escape(base + urlencode({"user": uid}))}">{html.escape(name)}</a></li>'
                        for uid, name in people.items()) or "<li>No LINE users yet: add a persona first.</li>"
        page = ("<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>"
                "<title>LINE Login (emulator)</title><h1>LINE Login (emulator)</h1>"
                f"<p>Sign in as:</p><ul id=people>{items}</ul>")
        return Response(page, content_type="text/html; charset=utf-8")

    def _token(self, request: Request, base: str) -> Response:
        form = request.form
        if form.get("grant_type") != "authorization_code":
            return _json({"error": "unsupported_grant_type"}, 400)
        client_id = form.get("client_id", "")
        with self._lock:
            secret = self._channels.get(client_id)
            code = self._codes.get(form.get("code", ""))
            if secret is None or not secrets.compare_digest(secret, form.get("client_secret", "")):
                return _json({"error": "invalid_client"}, 401)
            if (code is None or code.used or code.client_id != client_id
                    or code.redirect_uri != form.get("redirect_uri") or time.time() - code.issued_at > CODE_TTL):
                return _json({"error": "invalid_grant", "error_description": "invalid authorization code"}, 400)
            code.used = True
            access = secrets.token_urlsafe(32)
            self._access[access] = (client_id, code.scope, time.time() + TOKEN_TTL)
        now = int(time.time())
        claims = {"iss": base, "sub": code.user_id, "aud": client_id, "exp": now + ID_TOKEN_TTL, "iat": now,
                  "amr": ["linesso"], "name": self._profiles().get(code.user_id, "")}
        if code.nonce:
            claims["nonce"] = code.nonce
        id_token = jwt.encode({"alg": "ES256", "kid": self._key.kid, "typ": "JWT"}, claims, self._key)
        return _json({"access_token": access, "token_type": "Bearer", "expires_in": TOKEN_TTL,
                      "refresh_token": secrets.token_urlsafe(20), "scope": code.scope, "id_token": id_token})

    def _certs(self, _request: Request, _base: str) -> Response:
        return _json({"keys": [self._key.as_dict(private=False)]})

    def _verify_id_token(self, request: Request, base: str) -> Response:
        """POST /oauth2/v2.1/verify: LINE checks an ID token for a client and answers its claims."""
        form = request.form
        try:
            token = jwt.decode(form.get("id_token", ""), KeySet([self._key]), algorithms=["ES256"])
        except (JoseError, ValueError):
            return _json({"error": "invalid_request", "error_description": "Invalid IdToken."}, 400)
        claims = token.claims
        if claims.get("iss") != base or claims.get("aud") != form.get("client_id") or claims.get("exp", 0) < time.time():
            return _json({"error": "invalid_request", "error_description": "Invalid IdToken."}, 400)
        if form.get("nonce") and claims.get("nonce") != form.get("nonce"):
            return _json({"error": "invalid_request", "error_description": "Invalid IdToken Nonce."}, 400)
        return _json(claims)

    def _verify_access_token(self, request: Request, _base: str) -> Response:
        with self._lock:
            found = self._access.get(request.args.get("access_token", ""))
        if found is None or found[2] < time.time():
            return _json({"error": "invalid_request", "error_description": "access token expired"}, 400)
        return _json({"scope": found[1], "client_id": found[0], "expires_in": int(found[2] - time.time())})


def _json(body: Any, status: int = 200) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status=status, content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _redirect(uri: str, params: dict[str, str]) -> Response:
    separator = "&" if "?" in uri else "?"
    return Response("", status=302, headers={"Location": uri + separator + urlencode(params)})
