"""What the Matrix adapter puts in events, and reads from them: pure functions, no client.

A message is an ``m.text`` with a plain ``body`` and an HTML ``formatted_body``; choices are a
numbered list the person answers with the number or the label. What a person typed reaches the
router without the quotation Matrix clients put before a reply.
"""

from __future__ import annotations

import hashlib
import html
import re
from typing import Any

from bot import chunks
from bot.i18n import Rendered, numbered
from flows.messages import Attachment, UserKey

PLATFORM = "mx"
TEXT_LIMIT = 16_000
"""Synapse refuses events over 64 KiB; a plain and an HTML copy of 16,000 characters fit."""
MAX_INCOMING = 4096
USER_ID = re.compile(r"^@[^:\s]+:[^\s]+$")


def user_key(user_id: str) -> UserKey:
    return UserKey(f"{PLATFORM}:{user_id}")


def user_id_of(key: UserKey) -> str | None:
    """The Matrix id behind ``mx:@ana:example.org``, or ``None`` if it is not one."""
    prefix, _, rest = key.partition(":")
    return rest if prefix == PLATFORM and USER_ID.match(rest) else None


def _html(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.split("\n"))


def text_contents(message: Rendered) -> list[dict[str, Any]]:
    """The ``m.text`` contents for a message: one, or several for a very long text."""
    listed = numbered(message.choices)
    pieces = chunks.split_text(message.text, TEXT_LIMIT) if message.text.strip() else []
    if not pieces and not listed:
        return []
    if not pieces:
        pieces = [""]
    contents = []
    for index, piece in enumerate(pieces):
        body, formatted = piece, _html(piece)
        if index == len(pieces) - 1 and listed:
            body = f"{piece}\n\n" + "\n".join(listed) if piece else "\n".join(listed)
            items = "".join(f"<li>{html.escape(label)}</li>" for _, label in message.choices)
            formatted = (f"<p>{formatted}</p>" if piece else "") + f"<ol>{items}</ol>"
        contents.append({"msgtype": "m.text", "body": body,
                         "format": "org.matrix.custom.html", "formatted_body": formatted})
    return contents


def file_content(att: Attachment, url: str | None,
                 keys: dict[str, Any] | None) -> dict[str, Any]:
    """An ``m.image`` or ``m.file`` pointing at uploaded media (``file`` when encrypted)."""
    content: dict[str, Any] = {
        "msgtype": "m.image" if att.mime.startswith("image/") else "m.file",
        "body": att.filename,
        "filename": att.filename,
        "info": {"mimetype": att.mime, "size": len(att.data)},
    }
    size = png_size(att.data) if att.mime == "image/png" else None
    if size:
        content["info"]["w"], content["info"]["h"] = size
    if keys is not None:
        content["file"] = {"url": url, **keys}
    else:
        content["url"] = url
    return content


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a PNG header (clients size the image before loading it)."""
    if len(data) >= 24 and data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return None


def transaction_id(ref: str | None, part: int, room_id: str, content: dict[str, Any]) -> str:
    """A transaction id that is the same when the same outbox message is retried.

    The homeserver answers a repeated transaction id with the event it already made, so a
    retry after a timeout (the message went through, the answer was lost) is not sent twice.
    """
    digest = hashlib.sha256(f"{room_id}\x00{content.get('body', '')}".encode()).hexdigest()
    return f"filiere.{ref or 'direct'}.{part}.{digest[:12]}"


REPLY_FALLBACK = re.compile(r"(?:>[^\n]*\n)+\n")


def typed_text(content: dict[str, Any]) -> str | None:
    """What the person typed in an ``m.text``, without a reply's quotation; ``None`` for
    edits (an edit is not a new answer)."""
    relates = content.get("m.relates_to") or {}
    if relates.get("rel_type") == "m.replace":
        return None
    body = content.get("body")
    if not isinstance(body, str):
        return None
    if relates.get("m.in_reply_to") and body.startswith(">"):
        quoted = REPLY_FALLBACK.match(body)
        if quoted:
            body = body[quoted.end():]
    return body.strip()[:MAX_INCOMING]


def received_file(content: dict[str, Any]) -> tuple[str, str, int | None, str]:
    """Name, type, announced size and caption of an ``m.file`` a person sent.

    With a ``filename``, a ``body`` that differs from it is a caption (Matrix 1.10); without
    one, the body is the name.
    """
    body = content.get("body") if isinstance(content.get("body"), str) else ""
    filename = content.get("filename") if isinstance(content.get("filename"), str) else ""
    caption = body.strip() if filename and body != filename else ""
    info = content.get("info") if isinstance(content.get("info"), dict) else {}
    mime = info.get("mimetype") if isinstance(info.get("mimetype"), str) else ""
    size = info.get("size")
    return ((filename or body).strip() or "fichier", mime or "application/octet-stream",
            size if isinstance(size, int) and not isinstance(size, bool) else None,
            caption[:MAX_INCOMING])
