"""A service the tests need (Synapse, PostgreSQL) that is missing skips them visibly, and
fails them in CI, where a skipped test would hide that nothing was tested."""

from __future__ import annotations

import pytest

from tests.support import unavailable


@pytest.mark.parametrize("env", [{}, {"CI": "false"}, {"CI": ""}])
def test_outside_ci_a_missing_service_skips_the_test_with_its_reason(
    env: dict[str, str],
) -> None:
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL cannot be started here: no"):
        unavailable("PostgreSQL cannot be started here: no initdb", env=env)


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes"])
def test_in_ci_a_missing_service_fails_the_test_with_its_reason(value: str) -> None:
    with pytest.raises(pytest.fail.Exception, match="Synapse cannot be installed here: offline"):
        unavailable("Synapse cannot be installed here: offline", env={"CI": value})
