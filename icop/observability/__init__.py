"""Observability of every process: Prometheus metrics (``metrics``), JSON logs with the request's ids
(``logs``) and OpenTelemetry traces (``tracing``). Plain Python over prometheus_client and the
OpenTelemetry API: the gateway, the workers and the events worker wire these in thin shells."""
