from __future__ import annotations

from collections.abc import Iterator

import pytest

from emulators.client import EmulatorAdmin
from icop.settings import Settings


@pytest.fixture
def admin(settings: Settings) -> Iterator[EmulatorAdmin]:
    """The emulators' admin, with Google's usual token lifetime before and after the test."""
    a = EmulatorAdmin(f"http://{settings.bind_host}:{settings.emulator_port}")
    a.google_config(3599)
    yield a
    a.google_config(3599)
    a.close()
