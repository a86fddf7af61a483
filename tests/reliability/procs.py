"""Real processes for reliability tests and benchmarks: `holdfast sandbox`, `serve`, `worker`, kill -9, restart."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.fernet import Fernet
from sqlalchemy import text

from sandbox.devserver import BOT_TOKEN, CLIENT_ID, CLIENT_SECRET, SHOP, SHOP_TOKEN, SIGNING_SECRET, WEBHOOK_SECRET
from storage.db import make_engine

ROOT = Path(__file__).resolve().parents[2]
HOLDFAST = [sys.executable, "-m", "bot.cli"]
SECRETS = (BOT_TOKEN, SIGNING_SECRET, WEBHOOK_SECRET, SHOP_TOKEN)
FAST = {  # short leases and backoff so a test sees recovery in seconds
    "HOLDFAST_JOB_LEASE_S": "2", "HOLDFAST_WORKER_POLL_S": "0.1", "HOLDFAST_JOB_BACKOFF_BASE_S": "0.2",
    "HOLDFAST_JOB_BACKOFF_MAX_S": "1", "HOLDFAST_SHOPIFY_TIMEOUT_S": "2", "HOLDFAST_SLACK_TIMEOUT_S": "2",
    # `holdfast sandbox` runs Slack's rate tiers SLACK_RATE_SCALE times faster (below): far above these loads, so
    # holdfast need not pace its posts (a 429 is still obeyed).
    "HOLDFAST_SLACK_POST_RATE": "0",
    "HOLDFAST_WORKER_METRICS_PORT": "0",  # several workers on one host: no fixed metrics port to fight over
}


SLACK_RATE_SCALE = "1000"  # chat.postMessage 1,000 a second per channel, Tier 3 50,000 a minute: Slack's shape


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Procs:
    """The sandbox plus any number of holdfast processes sharing one database; logs go to files."""

    def __init__(self, database_url: str, logdir: Path, **env: str):
        self.database_url = database_url
        self.logdir = logdir
        self.ports = {k: free_port() for k in ("shopify", "slack", "control", "bot")}
        self.control = f"http://127.0.0.1:{self.ports['control']}"
        self.env = {
            **os.environ, "DATABASE_URL": database_url, "HOLDFAST_CONFIG": str(ROOT / "holdfast.example.yml"),
            # The own-store path: every process shares the one client-credentials token in the shop table.
            "SHOPIFY_CLIENT_ID": CLIENT_ID, "SHOPIFY_CLIENT_SECRET": CLIENT_SECRET, "SHOPIFY_SHOP": SHOP,
            "HOLDFAST_SECRET_KEY": Fernet.generate_key().decode(),  # seals the stored token; one for all processes
            "HOLDFAST_SHOPIFY_ADMIN_URL":
                f"http://127.0.0.1:{self.ports['shopify']}/{{shop}}/admin/api/{{version}}/graphql.json",
            "HOLDFAST_SHOPIFY_OAUTH_URL": f"http://127.0.0.1:{self.ports['shopify']}/{{shop}}/admin/oauth",
            "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "HOLDFAST_SLACK_API_URL": f"http://127.0.0.1:{self.ports['slack']}/api/", **FAST, **env,
        }
        self.env.pop("PYTHONWARNINGS", None)
        self.procs: dict[str, asyncio.subprocess.Process] = {}
        self.web_ports: dict[str, int] = {}
        self._logs: dict[str, Any] = {}
        self.http: aiohttp.ClientSession | None = None

    # --- processes ------------------------------------------------------------------------------------------
    async def _spawn(self, name: str, *args: str) -> asyncio.subprocess.Process:
        log = self._logs.get(name) or open(self.logdir / f"{name}.log", "ab")
        self._logs[name] = log
        proc = await asyncio.create_subprocess_exec(*HOLDFAST, *args, cwd=ROOT, env=self.env, stdout=log,
                                                    stderr=asyncio.subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    async def start(self, *, migrate: bool = True) -> Procs:
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        await self._spawn("sandbox", "sandbox", "--shopify-port", str(self.ports["shopify"]), "--slack-port",
                          str(self.ports["slack"]), "--control-port", str(self.ports["control"]),
                          "--shipstation-port", str(free_port()),
                          "--bot-url", f"http://127.0.0.1:{self.ports['bot']}",
                          "--slack-rate-scale", SLACK_RATE_SCALE)
        if migrate:
            proc = await self._spawn("migrate", "migrate")
            assert await proc.wait() == 0, self.log("migrate")
        await self.wait_http(f"{self.control}/messages")
        return self

    async def serve(self, name: str = "web", *, port: int | None = None, no_worker: bool = False,
                    verbose: bool = False) -> str:
        """Start (or restart) `holdfast serve`; returns its base URL once /healthz answers."""
        port = port or self.web_ports.get(name) or (self.ports["bot"] if not self.web_ports else free_port())
        self.web_ports[name] = port
        args = (["-v"] if verbose else []) + ["serve", "--port", str(port)] + (["--no-worker"] if no_worker else [])
        await self._spawn(name, *args)
        url = f"http://127.0.0.1:{port}"
        await self.wait_http(f"{url}/healthz", proc=name)
        return url

    async def worker(self, name: str = "worker") -> None:
        await self._spawn(name, "worker")

    def kill9(self, name: str) -> None:
        proc = self.procs[name]
        if proc.returncode is None:
            proc.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        for name, proc in self.procs.items():
            if proc.returncode is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        if self.http:
            await self.http.close()
        for log in self._logs.values():
            log.close()

    def log(self, name: str) -> str:
        if name in self._logs and not self._logs[name].closed:
            self._logs[name].flush()
        path = self.logdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def wait_http(self, url: str, timeout: float = 30.0, proc: str | None = None) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                async with self.http.get(url, timeout=aiohttp.ClientTimeout(total=2)) as resp:
                    if resp.status < 500:
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
                pass
            if proc and self.procs[proc].returncode is not None:
                raise RuntimeError(f"{proc} exited:\n{self.log(proc)[-3000:]}")
            if loop.time() > deadline:
                raise TimeoutError(f"{url} did not answer in {timeout}s")
            await asyncio.sleep(0.1)

    # --- the sandbox's control API ----------------------------------------------------------------------------
    async def get(self, path: str) -> Any:
        async with self.http.get(self.control + path) as resp:
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def post(self, path: str, body: Any) -> Any:
        async with self.http.post(self.control + path, json=body) as resp:
            assert resp.status in (200, 400), await resp.text()
            return await resp.json()

    # --- the database, read directly ---------------------------------------------------------------------------
    async def db(self, sql: str) -> list[tuple]:
        engine = make_engine(self.database_url)
        try:
            async with engine.connect() as conn:
                return [tuple(r) for r in (await conn.execute(text(sql))).all()]
        finally:
            await engine.dispose()

    async def busy_jobs(self) -> int:
        return (await self.db("SELECT count(*) FROM job WHERE status IN ('pending', 'running')"))[0][0]

    async def settle(self, timeout: float = 60.0) -> None:
        """Until no job is pending or running (dead jobs are final)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (busy := await self.busy_jobs()):
            if loop.time() > deadline:
                rows = await self.db("SELECT kind, status, attempts, last_error FROM job "
                                     "WHERE status IN ('pending', 'running') LIMIT 5")
                raise TimeoutError(f"{busy} job(s) still busy after {timeout}s, e.g. {rows}")
            await asyncio.sleep(0.2)


def message_status(text: str) -> str:
    """What a request message says about its request."""
    for word in ("Approved", "Rejected"):
        if word in text:
            return word.lower()
    return "pending"


def count(values) -> Counter:
    return Counter(values)
