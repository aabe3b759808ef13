"""Property tests of the API against its own OpenAPI document (schemathesis over real HTTP).

Every operation, with requests generated from the schema (valid ones, and ones that break it),
must answer without a server error and with a response that matches what `/openapi.json`
promises. The examples per operation come from the console's hypothesis profiles (`conftest.py`):
25 by default, 100 derandomized in CI (`HYPOTHESIS_PROFILE=ci`), 500 with
`HYPOTHESIS_PROFILE=deep` (`make fuzz`).

schemathesis's own pytest loader (`from_fixture`) does not run under pytest 9, so the test draws
cases from each operation's strategy with `@given` instead, which is the same generator.
What it found, and what the server now does: a command body without `type` was schema-valid
(pydantic gives each command's tag a default), so the document now marks the tag required; and a
body that is not UTF-8 got FastAPI's bare 400, now the same 422 sentence as any non-JSON body.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import given
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection

from tests.clinician_console.conftest import console_profile


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_by_its_schema(start_console: Any, mode: GenerationMode) -> None:
    # a generous limit: the properties are about answers, not about how fast commands may come
    console = start_console(rate_limit_per_s=10_000, rate_limit_burst=10_000)
    schema = schemathesis.openapi.from_url(
        f"{console.base}/openapi.json", headers=console.auth, timeout=10
    )
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {"GET /api/state", "POST /api/commands"}
    for operation in operations:
        breakable = bool(operation.body or operation.query or operation.path_parameters)
        if mode is GenerationMode.NEGATIVE and not breakable:
            continue  # nothing in a bare GET to get wrong

        @console_profile()
        @given(case=operation.as_strategy(generation_mode=mode))
        def answers_by_the_schema(case: Any) -> None:
            case.call_and_validate(
                base_url=console.base,
                headers=console.auth,
                timeout=10,
                # pydantic's lax mode takes "3" for 3 and true for 1 by design; every other
                # check stays: no 5xx, documented codes, content types, response schemas, and
                # every schema-valid command accepted
                excluded_checks=[negative_data_rejection],
            )

        answers_by_the_schema()
