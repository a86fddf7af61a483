"""`holdfast policy test` (backtest) and `holdfast check --reload`: the operator's policy tools."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.approvals.explain import verdicts
from bot.approvals.policies import PolicyError, PolicySet
from bot.approvals.schema import parse_duration
from bot.cli.backtest import Row, Summary, evaluate, files_note, not_in_files, orders_in
from bot.cli.orders_file import OrdersFileError, read_entries
from bot.cli.policy_report import explain_json, explain_lines, matches_order, progress_line, row_line, summary_line
from bot.cli.words import plural
from bot.policy_file import load_file
from bot.settings import Settings
from bot.shopify.client import ShopifyError

PAGE = 10  # nested line items and fulfillment orders keep a page under the 1,000-point query limit


def _progress(done: int, started: float, final: bool = False) -> None:
    rate = done / max(time.monotonic() - started, 1e-9)
    print(progress_line(done, rate), end="\n" if final else "\r", file=sys.stderr, flush=True)


@contextlib.asynccontextmanager
async def _token_source(settings: Settings, shop: str, http: Any) -> AsyncIterator[Any]:
    """The shop's token as `serve` gets it: a legacy SHOPIFY_SHOPS token, or the shop table's (renewed there)."""
    from bot.app import keyring
    from bot.shopify.client import StaticToken
    from bot.shopify.tokens import Tokens
    from storage import shops
    from storage.db import is_sqlite, make_engine, make_sessionmaker, migrate, transaction

    if token := settings.shops().get(shop):
        yield StaticToken(token)
        return
    engine = make_engine(settings.database_url)
    try:
        if is_sqlite(engine):
            await migrate(engine)
        sessions = make_sessionmaker(engine)
        if shop in settings.own_shops():
            async with transaction(sessions) as session:
                await shops.ensure_shop(session, domain=shop, grant_type=shops.CLIENT_CREDENTIALS, now=datetime.now(UTC))
        yield Tokens(sessions=sessions, keys=keyring(settings), http=lambda: http,
                     oauth_url=settings.shopify_oauth_url.rstrip("/"), client_id=settings.shopify_client_id,
                     client_secret=settings.shopify_client_secret.get_secret_value(), install_url=settings.install_url,
                     renew_margin_s=settings.shopify_token_renew_margin_s, timeout_s=settings.shopify_timeout_s)
    finally:
        await engine.dispose()


async def fetch_orders(settings: Settings, shop: str, since: datetime,
                       enrichment: bool = False) -> AsyncIterator[Any]:
    """Orders created since `since`, page by page through the GraphQL client (throttle-aware). With `enrichment`
    (a policy reads risk, product tags or B2B, which the page does not hold) each comes as (node, the order's
    OrderEnrichment node): one more call per order, as the server makes for each webhook."""
    import aiohttp

    from bot.shopify import documents as gql
    from bot.shopify.client import ShopifyClient

    url = settings.shopify_admin_url.format(shop=shop, version=settings.shopify_api_version)
    query = f"created_at:>='{since.isoformat(timespec='seconds')}'"
    async with aiohttp.ClientSession() as http, _token_source(settings, shop, http) as tokens:
        client = ShopifyClient(http, shop=shop, tokens=tokens, url=url, timeout_s=settings.shopify_timeout_s)
        after = None
        while True:
            result = await client.execute(gql.RECONCILE_ORDERS, {"first": PAGE, "after": after, "query": query},
                                          name="ReconcileOrders")
            page = result.root("orders")
            for node in page.get("nodes") or []:
                if not enrichment:
                    yield node
                    continue
                extra = await client.execute(gql.ORDER_ENRICHMENT, {"id": node["id"]}, name="OrderEnrichment")
                yield node, extra.root("order")
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")


def _report(rows: Iterator[Row], *, as_json: bool, out=sys.stdout) -> Summary:
    summary, started = Summary(), time.monotonic()
    for row in rows:
        summary.add(row)
        if as_json:
            out.write(json.dumps(row.as_json()) + "\n")
        elif row.error:  # file:line: reason, on stderr like a compiler's, so the table stays clean
            print(f"{row.error} (skipped)", file=sys.stderr, flush=True)
        else:
            out.write(row_line(row) + "\n")
        if (summary.orders + summary.skipped) % 5000 == 0:
            _progress(summary.orders, started)
    _progress(summary.orders, started, final=True)
    return summary


def _explain(policies: PolicySet, items: Iterator[Any], *, wanted: str, source: str | None, as_json: bool) -> int:
    """Every policy's verdict and every condition's value for the one order named `wanted`."""
    unavailable = frozenset(not_in_files(policies)) if source else frozenset()
    read = 0
    for facts, _label, error in orders_in(items, source=source):
        if facts is None:
            print(f"{error} (skipped)", file=sys.stderr)
            continue
        read += 1
        if not matches_order(facts, wanted):
            continue
        found = verdicts(policies, facts)
        if as_json:
            print(json.dumps(explain_json(facts, found)))
        else:
            print("\n".join(explain_lines(facts, found, unavailable=unavailable - facts.enriched)))
        return 0
    where = source or "the shop's orders"
    print(f"order {wanted} is not in {where} ({plural(read, 'order')} read): give its name (#1001) or id",
          file=sys.stderr)
    return 1


def cmd_policy_test(args: argparse.Namespace, settings: Settings) -> int:
    """Backtest the policies against a file of orders or the shop's recent orders."""
    try:
        policies = load_file(Path(args.config) if args.config else settings.config_path)
    except PolicyError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    if bool(args.orders) == bool(args.from_shop):
        print("give either --orders FILE or --from-shop [--since 30d]", file=sys.stderr)
        return 2
    note = files_note(policies) if args.orders else None
    if note:  # said once, up front: these facts are absent from every order of a file
        print(note, file=sys.stderr, flush=True)
    source = args.orders or None
    try:
        with contextlib.ExitStack() as stack:
            if args.orders:
                items: Iterator[Any] = read_entries(stack.enter_context(open(args.orders, encoding="utf-8")))
            else:
                items = _collect(settings, args, policies.needs_graphql)
            stack.enter_context(contextlib.closing(items))  # --explain stops early: end the shop's event loop now
            if args.explain:
                return _explain(policies, items, wanted=args.explain, source=source, as_json=args.json)
            summary = _report(evaluate(policies, items, source=source), as_json=args.json)
    except OrdersFileError as exc:
        where = f"{args.orders}:{exc.line}" if exc.line else args.orders
        print(f"{where}: {exc.message}; nothing after it can be read", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cannot read --orders {args.orders}: {exc.strerror or exc}; give the path of a file of orders",
              file=sys.stderr)
        return 2
    except (PolicyError, ShopifyError) as exc:
        print(f"cannot read the orders: {exc}", file=sys.stderr)
        return 2
    _print_summary(policies, summary, as_json=args.json, not_in_file=not_in_files(policies) if args.orders else [],
                   skipped_word="line" if args.orders else "order")
    return 0


def _collect(settings: Settings, args: argparse.Namespace, enrichment: bool) -> Iterator[Any]:
    # The GraphQL pages are fetched in a private event loop, one page at a time, so memory stays bounded.
    shop = args.shop or next(iter([*settings.own_shops(), *settings.shops()]), None)
    if not shop:
        raise PolicyError(["no shop configured: set SHOPIFY_SHOP (your own store) or pass --shop"])
    since = datetime.now(UTC) - parse_duration(args.since)
    loop = asyncio.new_event_loop()
    agen = fetch_orders(settings, shop, since, enrichment)
    try:
        while True:
            try:
                yield loop.run_until_complete(agen.__anext__())
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(agen.aclose())
        loop.close()


def _print_summary(policies: PolicySet, summary: Summary, *, as_json: bool, not_in_file: list[str],
                   skipped_word: str) -> None:
    if as_json:
        print(json.dumps({"summary": summary.as_json(), "policy_file_hash": policies.file_hash,
                          "not_in_file": not_in_file}))
        return
    print("\n" + summary_line(summary, skipped_word=skipped_word))


def send_reload(pid_file: Path | None) -> tuple[bool, str]:
    """Ask a running `holdfast serve` to reload its policies (SIGHUP); (whether a server got it, what happened)."""
    if pid_file is None:
        return False, "no pid file is configured (HOLDFAST_PID_FILE is empty): send SIGHUP to the server yourself"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return False, f"no running server found ({pid_file} missing or unreadable); the file is valid, start the server"
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        return False, f"process {pid} from {pid_file} is not running; remove the stale file"
    return True, f"asked the server (pid {pid}) to reload; it keeps its last good policies if this file fails there"


def add_parsers(sub, settings_of) -> None:
    """Register `holdfast policy test`. Every help says its default (the operator should not have to guess)."""
    pol = sub.add_parser("policy", help="policy tools").add_subparsers(dest="policy_command", required=True)
    t = pol.add_parser("test", help="what the policies would do to past orders")
    t.add_argument("--config", help="policy file (default: HOLDFAST_CONFIG, else holdfast.yml)")
    t.add_argument("--orders", metavar="FILE", help="a JSON file: one order, a JSON array, or JSON lines of "
                   "webhook payloads (default: none; give this or --from-shop)")
    t.add_argument("--from-shop", action="store_true", help="fetch orders from the configured shop instead, "
                   "with the facts webhooks lack (risk, product and customer tags) (default: off)")
    t.add_argument("--shop", help="which shop (default: the first in SHOPIFY_SHOP, else in SHOPIFY_SHOPS)")
    t.add_argument("--since", default="30d", help="with --from-shop: how far back, e.g. 7d (default: %(default)s)")
    t.add_argument("--explain", metavar="ORDER", help="show every policy's verdict and every condition's value "
                   "for one order, by name (#1001) or id (default: none; list every order)")
    t.add_argument("--json", action="store_true", help="one JSON object per order, then a summary object "
                   "(default: off, a table)")
    t.set_defaults(func=lambda args: cmd_policy_test(args, settings_of(args)))
