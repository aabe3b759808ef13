"""The clinic routes against their own OpenAPI document (schemathesis over real HTTP), as
`test_schema.py` does for the session console: no server error, only documented status codes,
every schema-valid request accepted or answered 404/409 by the records' own rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import given, settings
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection

from tests.clinician_console.conftest import console_profile
from tests.clinician_console.test_clinic_browser import ClinicServer
from tests.vret.test_progress import start_course
from vret.records import Records


def clinic_profile() -> settings:
    """The console's profile with a quarter of its examples per operation (at least 10): every
    request writes to the database, and this file should stay fast."""
    profile = console_profile()
    return settings(profile, max_examples=max(10, profile.max_examples // 4))


@pytest.fixture
def sqlite_records(tmp_path: Path) -> Iterator[Records]:
    with Records(f"sqlite:///{tmp_path / 'records' / 'vret.db'}") as records:
        yield records


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_clinic_operation_answers_by_its_schema(
    sqlite_records: Records, mode: GenerationMode
) -> None:
    start_course(sqlite_records, "C-0007")
    server = ClinicServer(sqlite_records).start()
    auth = {"Authorization": f"Bearer {server.token}"}
    try:
        schema = schemathesis.openapi.from_url(
            f"{server.base}/openapi.json", headers=auth, timeout=10
        )
        operations = [result.ok() for result in schema.get_all_operations()]
        assert {op.label for op in operations} >= {"POST /api/clients", "GET /api/clinic"}
        for operation in operations:
            # a text path parameter (a code, a scene) has no wrong value of the wrong type
            breakable = bool(operation.body or operation.query)
            if mode is GenerationMode.NEGATIVE and not breakable:
                continue

            @clinic_profile()
            @given(case=operation.as_strategy(generation_mode=mode))
            def answers_by_the_schema(case: Any) -> None:
                case.call_and_validate(
                    base_url=server.base,
                    headers=auth,
                    timeout=10,
                    excluded_checks=[negative_data_rejection],
                )

            answers_by_the_schema()
    finally:
        server.stop()
