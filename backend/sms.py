"""Verification codes by SMS through the site's own gateway.

SMS providers differ (Aliyun, Tencent Cloud, Twilio, a carrier's own API), each with its
signing scheme and approved templates, so OwnerDesk does not speak to them directly: it
posts each code as JSON to one URL the site runs (the provider's HTTP endpoint if it
accepts this shape, or a few lines of relay in front of it)::

    POST OWNERDESK_SMS_WEBHOOK_URL
    X-OwnerDesk-Signature: sha256=<hex HMAC-SHA256 of the body with OWNERDESK_SMS_WEBHOOK_SECRET>
    {"phone": "+8613800138000", "code": "123456", "language": "zh", "text": "…"}

Any 2xx is success; anything else, or no answer in 10 s, is an error the owner is told
about ("try again later"), never a silent loss.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import httpx

from backend.i18n import t
from backend.verification import CODE_TTL, CodeNotSent, mask_phone

log = logging.getLogger(__name__)

TIMEOUT = 10.0


class WebhookCodeSender:
    def __init__(
        self, url: str, secret: str, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.url = url
        self.secret = secret.encode()
        self.transport = transport

    def sign(self, body: bytes) -> str:
        return "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    async def send(self, phone: str, code: str, language: str) -> None:
        minutes = int(CODE_TTL.total_seconds() // 60)
        text = t(language, "binding.sms", code=code, minutes=minutes)
        body = json.dumps(
            {"phone": phone, "code": code, "language": language, "text": text},
            ensure_ascii=False,
        ).encode()
        headers = {"content-type": "application/json", "x-ownerdesk-signature": self.sign(body)}
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, transport=self.transport) as http:
                response = await http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.error("SMS gateway unreachable for %s: %s", mask_phone(phone), exc)
            raise CodeNotSent("the SMS gateway could not be reached") from exc
        if not response.is_success:
            log.error("SMS gateway answered %s for %s", response.status_code, mask_phone(phone))
            raise CodeNotSent(f"the SMS gateway answered {response.status_code}")
        log.info("verification code sent by SMS to %s", mask_phone(phone))
