"""Fault drills with real processes. After each one the ledger must agree with every account's cached balance."""

import pytest
from django.core.management import call_command


@pytest.fixture(autouse=True)
def ledger_clean_after_the_drill(transactional_db):
    yield  # (torn down before the database it depends on is flushed)
    call_command("verify_ledger")  # raises CommandError naming any account that drifted
