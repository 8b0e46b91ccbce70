"""A BugDoc 0.1 worker written from the protocol description (runs inside the reference's virtualenv).

PULL tasks ``filename|[values]|[names]|[outputs]`` from tcp://127.0.0.1:5557, evaluate the synthetic root
cause stored beside ``filename`` as JSON (``<filename>.json``: ``{"dnf": [[[name, op, value], ...], ...]}``),
append one history line to ``<filename minus .vt>.adb`` and PUSH ``str(values + ['True'|'False'])`` to :5558
('True' = success, as the 0.1 algorithms ``eval`` it). Exits on the message ``kill``.
"""

import ast
import json
import operator
import sys

import zmq

OPS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_dnf_cache = {}


def succeeds(filename, instance):
    if filename not in _dnf_cache:
        with open(filename + ".json") as fh:
            _dnf_cache[filename] = json.load(fh)["dnf"]
    for clause in _dnf_cache[filename]:
        if all(OPS[op](instance[name], value) for name, op, value in clause):
            return False
    return True


def main():
    separator = sys.argv[1] if len(sys.argv) > 1 else "|"
    context = zmq.Context()
    receiver = context.socket(zmq.PULL)
    receiver.connect("tcp://127.0.0.1:5557")
    sender = context.socket(zmq.PUSH)
    sender.connect("tcp://127.0.0.1:5558")
    while True:
        message = receiver.recv_string()
        if message == "kill":
            break
        parts = message.split(separator)
        filename, values, names = parts[0], ast.literal_eval(parts[1]), ast.literal_eval(parts[2])
        instance = dict(zip(names, values))
        result = str(succeeds(filename, instance))
        with open(filename.replace(".vt", ".adb"), "a") as fh:
            fh.write(json.dumps(str({**instance, "result": result})) + "\n")
        sender.send_string(str(values + [result]))
    receiver.close()
    sender.close()
    context.term()


if __name__ == "__main__":
    main()
