"""Fixtures shared with the storage tests."""

from tests.storage.test_surveys import survey_dir  # noqa: F401 - a fixture
