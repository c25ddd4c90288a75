"""Social platforms emulator (Facebook Pages, Instagram, Threads, X v2). See :mod:`emulators.social.app`."""

from .app import SocialEmulator, create_social_app
from .state import SocialState

__all__ = ["SocialEmulator", "SocialState", "create_social_app"]
