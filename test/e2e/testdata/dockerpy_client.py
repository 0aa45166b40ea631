#!/usr/bin/python3
"""Drives rrun serve with an unmodified docker-py (python3-docker).

DOCKER_HOST names the socket. Every step records its result, or the
exception it raised, under its name; the whole is printed as one JSON
object on stdout for the Go test to check.
"""
import json
import sys
import traceback

import docker

out = {}


def step(name, fn):
    try:
        out[name] = fn()
    except Exception as e:  # noqa: BLE001 - every failure is reported
        out[name] = {"error": "%s: %s" % (type(e).__name__, e),
                     "trace": traceback.format_exc()}
    return out[name]


def b(data):
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


client = docker.from_env(timeout=120)
step("ping", lambda: client.ping())
step("version", lambda: {k: client.version().get(k) for k in ("ApiVersion", "Os", "Version")})
step("api_version", lambda: client.api.api_version)
step("pull", lambda: {"tags": client.images.pull("busybox").tags})
step("run_echo", lambda: b(client.containers.run("alpine", "echo hi", remove=True)))

label = "rrun.e2e=dockerpy"
state = {}


def start():
    c = client.containers.run("alpine", detach=True, command="sleep 100",
                              labels={"rrun.e2e": "dockerpy"}, ports={"80/tcp": None})
    state["c"] = c
    c.reload()
    return {"id": c.id, "status": c.status, "labels": c.labels,
            "ports": c.attrs["NetworkSettings"]["Ports"]}


def exec_echo():
    code, output = state["c"].exec_run("echo x")
    return {"code": code, "output": b(output)}


def listed():
    return sorted(c.id for c in client.containers.list(all=True, filters={"label": label}))


def stop():
    c = state["c"]
    c.stop(timeout=1)
    c.reload()
    return c.status


def remove():
    state["c"].remove()
    return sorted(c.id for c in client.containers.list(all=True, filters={"label": label}))


def network():
    n = client.networks.create("dockerpy-net", labels={"via": "dockerpy"})
    names = [x.name for x in client.networks.list()]
    n.remove()
    return {"id": n.id, "listed": "dockerpy-net" in names,
            "after": "dockerpy-net" in [x.name for x in client.networks.list()]}


def volume():
    v = client.volumes.create("dockerpy-vol", labels={"via": "dockerpy"})
    names = [x.name for x in client.volumes.list()]
    v.remove()
    return {"name": v.name, "listed": "dockerpy-vol" in names,
            "after": "dockerpy-vol" in [x.name for x in client.volumes.list()]}


if "error" not in step("detached", start):
    step("exec", exec_echo)
    step("logs_before", lambda: b(state["c"].logs()))
    step("list", listed)
    step("stop", stop)
    step("remove", remove)
step("network", network)
step("volume", volume)

json.dump(out, sys.stdout, indent=1, default=str)
