"""Every job kind has exactly one JobSpec, and every place that queues a job names a kind that has one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.approvals.effects import JobKind
from bot.features import jobs as feature_jobs
from bot.jobs.registry import JobSpec, Registry, UnknownJobKind

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = feature_jobs.registry()


def calls() -> list[tuple[str, int, str, ast.expr | None]]:
    """(file, line, what, kind expression) for every place in bot/ and handlers/ that queues a job."""
    found = []
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")]:
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            keywords = {k.arg: k.value for k in node.keywords}
            if name == "enqueue" and isinstance(func, ast.Attribute) and ast.unparse(func.value) != "spec":
                owner = ast.unparse(func.value)  # (a Periodic's `spec.enqueue` calls one of the functions scanned)
                kind = keywords.get("kind") or (node.args[1] if len(node.args) > 1 else None)
                found.append((rel, node.lineno, f"{owner}.enqueue", kind))
            elif name == "Effect":
                found.append((rel, node.lineno, "Effect", keywords.get("kind") or (node.args[0] if node.args else None)))
            elif "job_kind" in keywords:
                found.append((rel, node.lineno, name, keywords["job_kind"]))
    return found


def kind_named(expr: ast.expr | None) -> str | None:
    """The JobKind an expression names (`JobKind.HOLD`, `JobKind.PROCESS_ORDER.value`), else None."""
    if isinstance(expr, ast.Attribute) and expr.attr == "value":
        expr = expr.value
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "JobKind":
        return JobKind[expr.attr].value
    return None


# Places that pass a kind on rather than name one: writing the core's effects (each Effect names its kind, and
# is checked here too) and the periodic scheduler's per-shop passes (`_per_shop(JobKind.…)`, a JobKind). Every
# JobKind member has a spec (below), so naming a member is enough.
PASS_THROUGH = {("bot/features/requests/common.py", "effect.kind"), ("bot/jobs/scheduler.py", "kind"),
                ("bot/runtime.py", "kind")}  # the runtime's own enqueue looks the kind up (test below)


def test_the_scan_finds_the_places_that_queue_jobs():
    found = calls()
    assert len(found) > 30
    assert {what for _, _, what, _ in found} >= {"rt.enqueue", "Effect", "store"}


@pytest.mark.parametrize("where", calls(), ids=lambda c: f"{c[0]}:{c[1]}")
def test_every_queued_kind_has_a_spec(where):
    path, line, what, expr = where
    kind = kind_named(expr)
    if kind is None:
        text = ast.unparse(expr) if expr is not None else "(no kind)"
        assert (path, text) in PASS_THROUGH, f"{path}:{line}: {what} queues `{text}`: name a JobKind member"
        return
    assert kind in REGISTRY, f"{path}:{line}: {what} queues {kind!r}, which has no JobSpec"


def test_only_the_runtime_writes_job_rows():
    # rt.enqueue takes the tries from the kind's spec and refuses a kind without one; storage's enqueue does not.
    direct = [(p, n) for p, n, what, _ in calls() if what.endswith(".enqueue") and what not in ("rt.enqueue", "self.rt.enqueue")]
    assert [p for p, _ in direct] == ["bot/runtime.py"], direct


def test_every_kind_is_declared_once_and_nothing_else_is():
    assert REGISTRY.kinds == {k.value for k in JobKind}
    owners = {spec.kind: feature for feature, specs in feature_jobs.FEATURES.items() for spec in specs}
    assert len(owners) == sum(len(specs) for specs in feature_jobs.FEATURES.values())


def test_a_kind_declared_twice_is_refused():
    async def run(rt, job):
        return None

    with pytest.raises(ValueError, match="declared twice"):
        Registry([JobSpec("x", run), JobSpec("x", run)])


def test_an_unknown_kind_says_where_to_declare_it():
    with pytest.raises(UnknownJobKind, match="jobs.py"):
        REGISTRY.spec("slack.carrier_pigeon")


def test_the_runtime_refuses_to_queue_a_kind_without_a_spec():
    from types import SimpleNamespace

    from bot.runtime import Runtime

    rt = SimpleNamespace(registry=REGISTRY, settings=None, now=None)
    with pytest.raises(UnknownJobKind):
        Runtime.enqueue(rt, session=None, kind="slack.carrier_pigeon", key="k")


@pytest.mark.parametrize(("kind", "calls_shopify"), [
    (JobKind.PROCESS_ORDER, True), (JobKind.HOLD, True), (JobKind.RECONCILE, True), (JobKind.DRAFT_CREATE, True),
    (JobKind.POST_REQUEST, False), (JobKind.HOME_PUBLISH, False), (JobKind.DIGEST, False),
])
def test_the_kinds_that_call_shopify_say_so(kind, calls_shopify):
    assert REGISTRY.spec(kind).calls_shopify is calls_shopify


def test_tries_come_from_the_settings_named_by_the_spec():
    class S:
        job_max_attempts, hold_max_attempts = 8, 6

    assert REGISTRY.spec(JobKind.HOLD).max_attempts(S) == 6
    assert REGISTRY.spec(JobKind.CANCEL_CHECK).max_attempts(S) == 12
    assert REGISTRY.spec(JobKind.POST_REQUEST).max_attempts(S) == 8
