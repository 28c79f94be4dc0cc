"""A small thread-safe LRU for the work the variants of one task share (photo pixels, masks, scenes)."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict


class TaskCache:
    """Keeps the last `size` values. A value may belong to an `owner` object (its key then names it by id()):
    a weak reference checks the owner is still that object, so a recycled id never returns another's value."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, owner=None):
        with self._lock:
            hit = self._items.get(key)
            if hit is None or (hit[0] is not None and hit[0]() is not owner):
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key, value, owner=None) -> None:
        try:
            ref = weakref.ref(owner) if owner is not None else None
        except TypeError:  # an owner that takes no weak reference: not kept
            return
        with self._lock:
            self._items[key] = (ref, value)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def values(self) -> list:
        with self._lock:
            return [value for _, value in self._items.values()]
