"""The ceiling of this stack for bench.ingest: a bare aiohttp app that checks the webhook HMAC and answers 200."""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac

from aiohttp import web


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True), p.add_argument("--secret", required=True)
    a = p.parse_args()
    key = a.secret.encode()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        digest = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(digest, request.headers.get("X-Shopify-Hmac-Sha256", "")):
            return web.json_response({"error": "bad hmac"}, status=401)
        return web.json_response({"ok": True})

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=5 * 1024 * 1024)
    app.router.add_post("/shopify/webhooks", receive)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=a.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
