"""The ICOP public API (FastAPI): one folder per capability, thin routes over services and repositories."""
