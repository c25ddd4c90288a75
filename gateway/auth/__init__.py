"""Sign-up, login, refresh-token rotation with reuse detection, logout."""
