"""Drive ``bugdoc==0.1`` on synthetic pipelines (runs inside the reference's virtualenv).

Usage: ``python driver.py JOBS.json OUT.jsonl WORKDIR``. ``JOBS.json`` is ``{"pipelines": [{"id", "space",
"dnf"}], "methods": [...]}``; for each pipeline and method this starts from an empty ``.adb`` (the 0.1 history
loader turns strings into bytes), runs one algorithm object at a time (its ZeroMQ ports are fixed), and
writes one JSON line ``{"id", "method", "answer": [[[name, op, value], ...], ...], "instances", "seconds",
"stalled"}``. Binding is patched from ``tcp://*`` to loopback. A worker process (``worker.py``) evaluates the
instances. The 0.1 dispatcher never resends a task whose result is lost, and then polls forever: a run that
takes longer than ``jobs["timeout"]`` seconds (default 180) is stopped, recorded as ``stalled`` with an empty
answer and the instances it had run, and the worker is restarted; a run that exhausts ``jobs["memory_gb"]``
(default 6) is recorded the same way with ``"stalled": "MemoryError"``.
"""

import json
import os
import random
import resource
import signal
import subprocess
import sys
import time

import numpy as np
import zmq

_bind = zmq.Socket.bind


def _loopback_bind(self, addr):
    return _bind(self, addr.replace("tcp://*", "tcp://127.0.0.1"))


zmq.Socket.bind = _loopback_bind

from bugdoc.algos import debugging_decision_trees, shortcut, stacked_shortcut
from bugdoc.utils.quine_mccluskey import prune_tree

METHODS = ("shortcut", "stacked", "ddt_one", "ddt_all")


def _num(text):
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _from_strings(conj):
    out = []
    for literal in conj:
        name, op, value = literal.split(" ", 2)
        out.append([name, op, _num(value)])
    return out


def _from_path(path, keys):
    out = []
    for col, value, flag in path:
        if isinstance(value, str):
            out.append([keys[col], "==" if flag else "!=", value])
        else:
            out.append([keys[col], ">=" if flag else "<", value])
    return out


class Stalled(Exception):
    """The reference waited too long for a result (its dispatcher never resends a lost task)."""


def _alarm(signum, frame):
    raise Stalled()


def make(method):
    if method == "shortcut":
        return shortcut.AutoDebug(k=1)
    if method == "stacked":
        return stacked_shortcut.AutoDebug(k=4)
    return debugging_decision_trees.AutoDebug(first_solution=method == "ddt_one")


def run_method(method, algo, vt, space, keys):
    if method == "shortcut":
        answer, _ = algo.run(vt, space, ["result"])
        return [[[keys[i], "==", v] for i, v in answer]] if answer else []
    if method == "stacked":
        result = algo.run(vt, space, ["result"])
        return [[[keys[i], "==", v] for i, v in conj] for conj in result[0]]
    _, tree, _ = algo.run(vt, space, ["result"])
    pruned = prune_tree(tree, keys)
    return [_from_strings(c) if c and isinstance(c[0], str) else _from_path(c, keys) for c in pruned]


def start_worker(here):
    return subprocess.Popen([sys.executable, os.path.join(here, "worker.py")])


def stop_worker(worker):
    context = zmq.Context()
    sender = context.socket(zmq.PUSH)
    sender.bind("tcp://127.0.0.1:5557")
    sender.send_string("kill")
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
    sender.close(linger=0)
    context.term()


def main():
    jobs_path, out_path, workdir = sys.argv[1:4]
    with open(jobs_path) as fh:
        jobs = json.load(fh)
    limit = int(jobs.get("timeout", 180))
    here = os.path.dirname(os.path.abspath(__file__))
    signal.signal(signal.SIGALRM, _alarm)
    # the reference's tree + Quine-McCluskey can exhaust memory on some pipelines: fail that run, not the machine
    memory = int(jobs.get("memory_gb", 6)) * 2**30
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    worker = start_worker(here)
    try:
        with open(out_path, "a") as out:
            for pipe in jobs["pipelines"]:
                for method in jobs["methods"]:
                    random.seed(pipe["seed"])
                    np.random.seed(pipe["seed"] % (2**32))
                    vt = os.path.join(workdir, f"{pipe['id']}_{method}.vt")
                    with open(vt + ".json", "w") as fh:
                        json.dump({"dnf": pipe["dnf"]}, fh)
                    open(vt, "w").close()
                    open(vt.replace(".vt", ".adb"), "w").close()
                    start = time.time()
                    algo = make(method)
                    stalled = False
                    signal.alarm(limit)
                    try:
                        answer = run_method(method, algo, vt, pipe["space"], list(pipe["space"]))
                    except (Stalled, MemoryError) as exc:
                        stalled, answer = type(exc).__name__, []
                        for sock in (algo.sender, algo.receiver):
                            sock.close(linger=0)
                        algo.context.term()
                        worker.kill()
                        worker.wait()
                        worker = start_worker(here)
                    finally:
                        signal.alarm(0)
                    with open(vt.replace(".vt", ".adb")) as fh:
                        count = sum(1 for _ in fh)
                    row = {
                        "id": pipe["id"],
                        "method": method,
                        "answer": answer,
                        "instances": count,
                        "seconds": round(time.time() - start, 3),
                        "stalled": stalled,
                    }
                    out.write(json.dumps(row) + "\n")
                    out.flush()
    finally:
        stop_worker(worker)


if __name__ == "__main__":
    main()
