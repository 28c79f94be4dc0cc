"""One LiteRT interpreter per model file per process, and a locked call into it.

RQ runs each job in a forked work horse: keying the cache by pid means a horse never reuses an
interpreter (and its XNNPACK thread state) built in its parent, and the lock keeps two threads of one
process from interleaving set_tensor / invoke / get_tensor on the same interpreter.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

_LOCK = threading.Lock()
_CACHE: dict[tuple[str, int], tuple[object, threading.Lock]] = {}


def _interpreter(path: Path) -> tuple[object, threading.Lock]:
    key = (str(path), os.getpid())
    with _LOCK:
        if key not in _CACHE:
            from ai_edge_litert.interpreter import Interpreter

            # One thread: a worker renders one cover at a time and these models take milliseconds.
            interpreter = Interpreter(model_path=str(path), num_threads=1)
            interpreter.allocate_tensors()
            _CACHE[key] = (interpreter, threading.Lock())
        return _CACHE[key]


def input_shape(path: Path) -> tuple[int, ...]:
    interpreter, _ = _interpreter(path)
    return tuple(int(n) for n in interpreter.get_input_details()[0]["shape"])


def run(path: Path, tensor: np.ndarray) -> list[np.ndarray]:
    """Run the model at `path` on one float32 input tensor; its outputs, copied, in the model's order."""
    interpreter, lock = _interpreter(path)
    with lock:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor)
        interpreter.invoke()
        return [interpreter.get_tensor(d["index"]).copy() for d in interpreter.get_output_details()]
