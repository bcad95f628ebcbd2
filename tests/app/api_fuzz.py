"""Fuzz the JSON API with schemathesis against its generated OpenAPI document.

Shared by ``tests/app/test_api_fuzz.py`` (bounded, in ``make test``) and
``benchmarks/api_fuzz_bench.py`` (a long run). Each operation gets generated requests, valid
(positive) and invalid (negative), half of them aimed at the seeded project's real ids so they
get past the 404s; every response is checked for 5xx, for matching its declared schema and for
a documented status code.
"""

from __future__ import annotations

import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelapp.db import session_scope
from tests.app.factories import add_items, make_project, make_user

TEXTS = [
    "check out my channel, free subscribers",
    "this song is amazing",
    "I love this video so much",
    "visit my website for free money",
    "great music, memories",
    "subscribe to me please",
    "best song ever",
    "win a free phone now",
] * 5


class _TimeUp(Exception):
    """This operation's share of the time budget is spent."""


@dataclass
class Outcome:
    """What one role's fuzzing sent and got back."""

    role: str
    requests: int = 0
    server_errors: int = 0
    schema_failures: int = 0
    status_failures: int = 0
    statuses: Counter = field(default_factory=Counter)
    operations: Counter = field(default_factory=Counter)  # requests per operation
    examples: list[str] = field(default_factory=list)  # a few failures, to read
    seconds: float = 0.0

    def add_failure(self, text: str) -> None:
        if len(self.examples) < 20:
            self.examples.append(text)


def seed_world(sessions, tmp_dir: Path) -> dict[str, Any]:
    """A text project with items, an admin, an sme and an annotator member, a labeling function,
    a second guideline version and a few annotations: real ids for the fuzzer to aim at."""
    from labelapp.models import Item, Project, User
    from labelapp.services import queue
    from labelapp.services.agreement import new_guideline_version
    from labelapp.services.weak.lfs import save_lf

    project_id = make_project(sessions, "fuzz", ("ham", "spam"), allow_ambiguous=True)
    items = add_items(sessions, project_id, TEXTS, tmp_dir)
    admin = make_user(sessions, "fuzz-admin", "admin")
    sme = make_user(sessions, "fuzz-sme", "sme", (project_id,))
    annotator = make_user(sessions, "fuzz-annotator", "annotator", (project_id,))
    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        lf, _ = save_lf(
            session,
            project,
            {"kind": "keyword", "name": "kw_free", "label": "spam", "keywords": ["free"]},
            session.get(User, sme.id),
        )
        lf_id = lf.id
        new_guideline_version(session, project, "Spam sells something.", session.get(User, sme.id))
    for account in (annotator, sme):
        with session_scope(sessions) as session:
            user = session.get(User, account.id)
            project = session.get(Project, project_id)
            for _ in range(3):
                claim = queue.claim_next(session, project, user)
                if claim is None:
                    break
                queue.record(
                    session,
                    user,
                    claim.item.id,
                    kind="label",
                    client_id=str(uuid.uuid4()),
                    labels=["spam"],
                )
    with session_scope(sessions) as session:
        assert session.get(Item, items[0]) is not None
    return {
        "project_id": project_id,
        "items": items,
        "lf_id": lf_id,
        "accounts": {"admin": admin, "sme": sme, "annotator": annotator},
    }


def _known_ids(world: dict[str, Any]) -> dict[str, int]:
    return {
        "project_id": world["project_id"],
        "item_id": world["items"][0],
        "lf_id": world["lf_id"],
        "version": 1,
        "job_id": 1,
    }


# Operations that start a background job: with the real project id each one runs in the job
# worker (a label model, an export...), which a short run need not wait for.
JOB_OPERATIONS = (
    "POST /api/projects/{project_id}/ws/{step}",
    "POST /api/projects/{project_id}/retrain",
    "POST /api/projects/{project_id}/exports",
)


def fuzz(
    app,
    world: dict[str, Any],
    role: str,
    *,
    examples: int,
    budget_s: float,
    seed: int | None = 0,
    skip: tuple[str, ...] = (),
    generated_ids_only: tuple[str, ...] = (),
) -> Outcome:
    """Send generated requests to every operation as ``role``; ``examples`` per operation and
    generation mode, in at most about ``budget_s`` seconds. Operations in ``generated_ids_only``
    are not aimed at the seeded ids. Returns what happened."""
    import hypothesis
    import schemathesis
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.failures import FailureGroup
    from schemathesis.specs.openapi.checks import (
        response_schema_conformance,
        status_code_conformance,
    )

    headers = world["accounts"][role].headers
    known = _known_ids(world)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    outcome = Outcome(role)
    checks = [not_a_server_error, response_schema_conformance, status_code_conformance]
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if op.label not in skip]
    outcome.operations.update({op.label: 0 for op in operations})
    per_op = budget_s / max(1, len(operations) * 2 * 2)

    for operation in operations:
        names = {p.name for p in operation.path_parameters}
        real = {k: v for k, v in known.items() if k in names}
        if operation.label in generated_ids_only:
            real = {}
        # Real ids and valid data first: each operation gets that much even when time is short.
        slots = [
            (mode, fixed)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for fixed in ((real, {}) if real else ({},))
        ]
        for index, (mode, fixed) in enumerate(slots):
            over = time.monotonic() - started > budget_s
            if index and over:
                break
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed or None)
            # Once the budget is spent, an operation's first slot still sends one request.
            deadline = time.monotonic() + (0.0 if over else max(per_op, 0.5))
            sent = [0]  # in this slot: its first request goes out however long generation took

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
                derandomize=seed is not None,
                verbosity=Verbosity.quiet,
            )
            @given(case=strategy)
            def run(case) -> None:
                if sent[0] and time.monotonic() > deadline:  # noqa: B023 - runs within this slot
                    raise _TimeUp
                sent[0] += 1  # noqa: B023
                outcome.requests += 1
                outcome.operations[operation.label] += 1  # noqa: B023
                try:
                    response = case.call(headers=headers)
                except Exception as exc:
                    outcome.server_errors += 1
                    outcome.statuses[500] += 1
                    where = "".join(traceback.format_tb(exc.__traceback__)[-4:])
                    outcome.add_failure(
                        f"{case.method} {case.formatted_path} raised "
                        f"{type(exc).__name__}: {exc}\n{where}"
                        f"{case.as_curl_command()}"
                    )
                    return
                outcome.statuses[response.status_code] += 1
                if response.status_code >= 500:
                    outcome.server_errors += 1
                    outcome.add_failure(
                        f"{case.method} {case.formatted_path} -> "
                        f"{response.status_code}: {case.as_curl_command()}"
                    )
                try:
                    case.validate_response(response, checks=checks, headers=headers)
                except FailureGroup as group:
                    for failure in group.exceptions:
                        name = type(failure).__name__
                        if name == "UndefinedStatusCode":
                            outcome.status_failures += 1
                        elif name != "ServerError":  # counted above
                            # JsonSchemaError, MalformedJson, content-type and discriminator ones
                            outcome.schema_failures += 1
                        if response.status_code < 500:
                            outcome.add_failure(
                                f"{case.method} {case.formatted_path}: "
                                f"{failure.title}: {str(failure)[:600]}"
                            )

            if seed is not None:
                run = hypothesis.seed(seed)(run)
            try:
                run()
            except _TimeUp:
                pass
            except hypothesis.errors.Unsatisfiable:
                pass  # e.g. no invalid request exists for an operation without inputs
    outcome.seconds = time.monotonic() - started
    return outcome
