"""The floor for bench_webhook.py: a bare line-bot-sdk v3 echo bot, no database.

    LINE_CHANNEL_SECRET=… LINE_CHANNEL_ACCESS_TOKEN=… LINE_API_BASE_URL=http://127.0.0.1:PORT \
        gunicorn --chdir scripts 'echo_bot:app' --workers 2 --threads 8

Verify the signature, parse, answer each event with one reply: what any SDK bot must do per event.
"""
from __future__ import annotations

import os

from flask import Flask, abort, request
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, ReplyMessageRequest, TextMessage
from linebot.v3.webhook import WebhookParser
from linebot.v3.webhooks import MessageEvent, TextMessageContent

app = Flask(__name__)
parser = WebhookParser(os.environ["LINE_CHANNEL_SECRET"])
api = MessagingApi(ApiClient(Configuration(access_token=os.environ["LINE_CHANNEL_ACCESS_TOKEN"],
                                           host=os.environ.get("LINE_API_BASE_URL", "https://api.line.me"))))


@app.post("/callback")
def callback():
    body = request.get_data(as_text=True)
    try:
        events = parser.parse(body, request.headers.get("X-Line-Signature", ""))
    except InvalidSignatureError:
        abort(400)
    for event in events:
        token = getattr(event, "reply_token", None)
        if not token:
            continue
        if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
            text = event.message.text
        else:
            text = "สวัสดีค่ะ"
        api.reply_message(ReplyMessageRequest(reply_token=token, messages=[TextMessage(text=text)]))
    return "OK"


@app.get("/healthz")
def healthz():
    return {"status": "ok"}
