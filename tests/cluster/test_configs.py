"""The Serve config, ray-cluster.yaml and the KubeRay RayService: parsed with the real schemas, built with
Serve's own builder call, and cross-checked (deployment names, CPUs/GPUs, autoscaling bounds, capacity)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from icop.offline import apply_offline_env
from icop.settings import Settings

apply_offline_env()

from ray.serve.schema import DeploymentSchema, ServeDeploySchema  # noqa: E402 - after apply_offline_env

ROOT = Path(__file__).resolve().parents[2]
SERVE_CONFIG = ROOT / "cluster" / "serve_config.yaml"
RAY_CLUSTER = ROOT / "ray-cluster.yaml"
RAYSERVICE = ROOT / "cluster" / "kuberay-rayservice.yaml"

EXPECTED = {
    "topics": {"TopicClusterer"},
    "writer-gpt": {"Writer_gpt"},
    "writer-claude": {"Writer_claude"},
    "writer-gemini": {"Writer_gemini"},
    "images": {"ImageGenerator", "JpegConverterDeployment"},
}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def serve_config() -> ServeDeploySchema:
    return ServeDeploySchema.model_validate(load_yaml(SERVE_CONFIG))


@pytest.fixture(scope="module")
def rayservice() -> dict[str, Any]:
    return load_yaml(RAYSERVICE)


def autoscaling(d: DeploymentSchema) -> dict[str, Any]:
    """A deployment's autoscaling config as a dict (the config file's form), empty when it has none."""
    auto = d.autoscaling_config or {}
    return auto if isinstance(auto, dict) else auto.model_dump()


def resources(schema: ServeDeploySchema) -> dict[tuple[str, str], dict[str, Any]]:
    """(app, deployment) -> the figures that must agree between the files."""
    out = {}
    for app in schema.applications:
        for d in app.deployments:
            auto = autoscaling(d)
            raw_opts = d.ray_actor_options
            opts: dict[str, Any] = raw_opts if isinstance(raw_opts, dict) else raw_opts.model_dump()
            out[(app.name, d.name)] = {
                "num_cpus": opts.get("num_cpus"),
                "num_gpus": opts.get("num_gpus", 0) or 0,
                "max_ongoing_requests": d.max_ongoing_requests,
                "min_replicas": auto.get("min_replicas"),
                "max_replicas": auto.get("max_replicas"),
                "target_ongoing_requests": auto.get("target_ongoing_requests"),
            }
    return out


def test_serve_config_declares_every_deployment_with_bounds(serve_config: ServeDeploySchema) -> None:
    declared = {a.name: {d.name for d in a.deployments} for a in serve_config.applications}
    assert declared == EXPECTED
    assert serve_config.proxy_location.value == "Disabled" and serve_config.http_options.host == "127.0.0.1"
    for (app, name), r in resources(serve_config).items():
        assert 0 < r["num_cpus"] < 1, (app, name, r)  # fractional CPUs: 2-core machines, I/O-bound replicas
        assert r["num_gpus"] == 0, (app, name)  # nothing runs on a GPU today (see the config's comment)
        assert 1 <= r["min_replicas"] <= r["max_replicas"] <= 3, (app, name, r)
        assert 0 < r["target_ongoing_requests"] <= r["max_ongoing_requests"], (app, name, r)
    for spec in serve_config.applications:
        assert spec.route_prefix is None, spec.name  # handles only
        assert spec.import_path.startswith("deployments.apps:"), spec.import_path


def test_builders_accept_the_args_and_build_the_declared_deployments(serve_config: ServeDeploySchema) -> None:
    """What `serve deploy` does first: import the builder, validate `args` into its model, build."""
    from ray._common.utils import import_attr
    from ray.serve._private.api import call_user_app_builder_with_args_if_necessary
    from ray.serve._private.build_app import build_app

    for app in serve_config.applications:
        builder = import_attr(app.import_path)
        built = build_app(call_user_app_builder_with_args_if_necessary(builder, app.args), name=app.name)
        assert {d.name for d in built.deployments} == {d.name for d in app.deployments}, app.name
        for d in built.deployments:  # the code's own autoscaling bounds agree with the config's override
            code_auto = d._deployment_config.autoscaling_config
            conf = next(x for x in app.deployments if x.name == d.name)
            if code_auto is not None:
                assert code_auto.min_replicas == autoscaling(conf)["min_replicas"], (app.name, d.name)
                assert code_auto.max_replicas == autoscaling(conf)["max_replicas"], (app.name, d.name)


def test_builder_rejects_bad_args(serve_config: ServeDeploySchema) -> None:
    from pydantic import ValidationError
    from ray._common.utils import import_attr
    from ray.serve._private.api import call_user_app_builder_with_args_if_necessary

    with pytest.raises(ValidationError):
        call_user_app_builder_with_args_if_necessary(import_attr("deployments.apps:writer_app"),
                                                     {"provider": "not-a-provider"})  # fmt: skip
    with pytest.raises(ValidationError):
        call_user_app_builder_with_args_if_necessary(import_attr("deployments.apps:jpeg_app"),
                                                     {"max_batch_size": "lots"})  # fmt: skip


def test_writers_stay_within_the_provider_limit(serve_config: ServeDeploySchema) -> None:
    for app in serve_config.applications:
        if app.name.startswith("writer-"):
            (d,) = app.deployments
            limit = Settings().writer_provider_concurrency
            assert autoscaling(d)["max_replicas"] * d.max_ongoing_requests <= limit, app.name


def test_rayservice_embeds_the_same_applications(serve_config: ServeDeploySchema, rayservice: dict) -> None:
    assert rayservice["apiVersion"] == "ray.io/v1" and rayservice["kind"] == "RayService"
    v2 = ServeDeploySchema.model_validate(yaml.safe_load(rayservice["spec"]["serveConfigV2"]))
    assert resources(v2) == resources(serve_config)
    assert [(a.name, a.import_path, a.args) for a in v2.applications] == [
        (a.name, a.import_path, a.args) for a in serve_config.applications
    ]
    cluster = rayservice["spec"]["rayClusterConfig"]
    head = cluster["headGroupSpec"]
    assert head["rayStartParams"]["num-cpus"] == "0"  # no replicas on the head
    groups = cluster["workerGroupSpecs"]
    for g in [head, *groups]:
        assert g["rayStartParams"]["disable-usage-stats"] == "true"
        for c in g["template"]["spec"]["containers"]:
            env = {e["name"]: e["value"] for e in c["env"]}
            assert env["RAY_USAGE_STATS_ENABLED"] == "0"
    cpu_capacity = sum(int(g["rayStartParams"]["num-cpus"]) * g["maxReplicas"] for g in groups)
    assert cpu_capacity >= peak_cpus(serve_config)
    for g in groups:  # the container gets the CPUs Ray believes it has
        limit = g["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"]
        assert int(limit) == int(g["rayStartParams"]["num-cpus"]), g["groupName"]
        assert g["minReplicas"] <= g["replicas"] <= g["maxReplicas"]


def peak_cpus(schema: ServeDeploySchema) -> float:
    return sum(r["num_cpus"] * r["max_replicas"] for r in resources(schema).values())


def test_ray_cluster_yaml_can_hold_the_serve_config(serve_config: ServeDeploySchema) -> None:
    c = load_yaml(RAY_CLUSTER)
    assert c["cluster_name"] and c["provider"]["type"] == "aws"
    types = c["available_node_types"]
    head = types[c["head_node_type"]]
    assert head["resources"]["CPU"] == 0
    workers = {k: v for k, v in types.items() if k != c["head_node_type"]}
    for name, t in workers.items():
        assert 0 <= t["min_workers"] <= t["max_workers"] <= c["max_workers"], name
    cpu_workers = [t for t in workers.values() if not t["resources"].get("GPU")]
    assert sum(t["resources"]["CPU"] * t["max_workers"] for t in cpu_workers) >= peak_cpus(serve_config)
    assert min(t["min_workers"] for t in cpu_workers) >= 1  # min_replicas of everything must fit at once
    min_cpus = sum(r["num_cpus"] * r["min_replicas"] for r in resources(serve_config).values())
    assert sum(t["resources"]["CPU"] * t["min_workers"] for t in cpu_workers) >= min_cpus
    if any(r["num_gpus"] for r in resources(serve_config).values()):
        assert any(t["resources"].get("GPU") for t in workers.values())

    setup = " ".join(c["setup_commands"])
    assert "scripts/install.sh" in setup
    head_start = " ".join(c["head_start_ray_commands"])
    worker_start = " ".join(c["worker_start_ray_commands"])
    assert "--head" in head_start and "--include-dashboard=false" in head_start
    assert "dashboard-host" not in head_start and "dashboard-port" not in head_start
    for cmds in (head_start, worker_start):
        assert "--disable-usage-stats" in cmds and "RAY_USAGE_STATS_ENABLED=0" in cmds
    assert "cluster/serve_config.yaml" in head_start
    assert "--address=$RAY_HEAD_IP:6379" in worker_start


# A Ray node opens these besides its GCS and client ports; left unset, each is a random port or a fixed one
# inside Linux's ephemeral range (32768-60999), which any outgoing connection may take first.
RAY_NODE_PORTS = ("node-manager-port", "object-manager-port", "runtime-env-agent-port",
                  "dashboard-agent-grpc-port", "min-worker-port", "max-worker-port")  # fmt: skip


def test_cluster_configs_pin_every_ray_port_below_the_ephemeral_range(rayservice: dict) -> None:
    import re

    c = load_yaml(RAY_CLUSTER)
    for cmds in (c["head_start_ray_commands"], c["worker_start_ray_commands"]):
        start = " ".join(cmds)
        flags = dict(re.findall(r"--([a-z-]+-port)=(\d+)", start))
        assert set(RAY_NODE_PORTS) | {"dashboard-agent-listen-port", "metrics-export-port"} <= set(flags)
        assert all(int(p) < 32768 for p in flags.values()), flags
    head = " ".join(c["head_start_ray_commands"])
    for variable in ("AUTOSCALER_METRIC_PORT", "DASHBOARD_METRIC_PORT"):  # the head's exporters: 44217, 44227
        assert int(re.search(rf"{variable}=(\d+)", head).group(1)) < 32768  # type: ignore[union-attr]

    cluster = rayservice["spec"]["rayClusterConfig"]
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    for group in groups:
        params = group["rayStartParams"]
        assert set(RAY_NODE_PORTS) <= set(params)
        assert all(int(params[k]) < 32768 for k in RAY_NODE_PORTS)
        [container] = group["template"]["spec"]["containers"]
        agent = [p for p in container["ports"] if p["name"] == "dashboard-agent"]  # KubeRay reads it here
        assert agent and agent[0]["containerPort"] < 32768
    env = {e["name"]: e["value"] for e in cluster["autoscalerOptions"]["env"]}
    head_env = {e["name"]: e["value"] for e in groups[0]["template"]["spec"]["containers"][0]["env"]}
    assert int(env["AUTOSCALER_METRIC_PORT"]) < 32768 and int(head_env["DASHBOARD_METRIC_PORT"]) < 32768


def test_builders_read_their_resources_from_the_serve_config(serve_config: ServeDeploySchema) -> None:
    """One home for Serve resources: an application built in code (tests, benchmarks) runs with exactly the
    replicas, concurrency and CPUs the config declares; the decorators carry none of their own."""
    from deployments.images import build_images_app
    from deployments.topics import build_topics_app
    from deployments.writers import build_writer_app

    s = Settings()
    built = {
        "topics": build_topics_app(s),
        "writer-gpt": build_writer_app("gpt", s),
        "images": build_images_app(s),
    }
    declared = resources(serve_config)
    for app, application in built.items():
        from ray.serve._private.build_app import build_app

        for d in build_app(application, name=app).deployments:
            cfg = d._deployment_config
            want = declared[(app, d.name)]
            assert (d.ray_actor_options or {}).get("num_cpus") == want["num_cpus"], (app, d.name)
            assert cfg.max_ongoing_requests == want["max_ongoing_requests"], (app, d.name)
            assert cfg.autoscaling_config is not None, (app, d.name)
            assert cfg.autoscaling_config.min_replicas == want["min_replicas"], (app, d.name)
            assert cfg.autoscaling_config.max_replicas == want["max_replicas"], (app, d.name)


def test_ray_cluster_yaml_keeps_rays_ports_inside_the_cluster_network() -> None:
    """Ray's ports carry no authentication: nodes use private addresses, and no security-group rule opens
    anything to an address range (Ray's own rule admits only members of the cluster's group)."""
    cfg = yaml.safe_load(RAY_CLUSTER.read_text())
    provider = cfg["provider"]
    assert provider["use_internal_ips"] is True
    rules = provider.get("security_group", {}).get("IpPermissions", [])
    assert not [r for r in rules if r.get("IpRanges") or r.get("Ipv6Ranges")], rules
    for command in cfg["head_start_ray_commands"] + cfg["worker_start_ray_commands"]:
        if "ray start" in command:
            assert "--min-worker-port=" in command and "--max-worker-port=" in command, command
            assert "dashboard-host" not in command and "0.0.0.0" not in command, command
