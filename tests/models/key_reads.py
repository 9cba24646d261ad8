"""Which settings a render really reads: attribute reads on the settings groups and per-frame schedule reads."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from deforum.animation import keys as keys_module
from deforum.animation import shakify
from deforum.core import run_inputs
from deforum.integrations.features import parseq
from deforum.models import settings as settings_module
from deforum.models.settings import FIELD_SPECS, GROUPS, Settings


class KeyReads:
    """The set of setting keys read while recording is on (bulk copies such as to_flat do not count)."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.paused = 0

    def note(self, key: str) -> None:
        """Record one read of `key`, unless a bulk copy is under way."""
        if not self.paused and key in FIELD_SPECS:
            self.keys.add(key)

    @contextlib.contextmanager
    def pause(self) -> Iterator[None]:
        """Reads inside are bulk copies (to_flat, from_dict), not uses."""
        self.paused += 1
        try:
            yield
        finally:
            self.paused -= 1


def _recording_group(cls: type, reads: KeyReads) -> type:
    """A subclass of a settings group whose field reads are recorded."""

    def __getattribute__(self: Any, name: str) -> Any:  # noqa: N807
        reads.note(name)
        return object.__getattribute__(self, name)

    return dataclasses.dataclass(frozen=True)(type(cls.__name__, (cls,), {"__getattribute__": __getattribute__}))


class _RecordingSeries(Mapping):
    """A read-only mapping of evaluated schedules that records which schedule is looked up."""

    def __init__(self, data: Mapping[str, Any], reads: KeyReads) -> None:
        self._data, self._reads = dict(data), reads

    def __getitem__(self, key: str) -> Any:
        self._reads.note(key)
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def items(self) -> Any:
        """A bulk copy (Parseq's replacement of the schedules it manages), not a use."""
        return self._data.items()


def _paused(reads: KeyReads, function: Any) -> Any:
    """`function` with recording paused while it runs."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with reads.pause():
            return function(*args, **kwargs)

    return wrapper


def record_key_reads(monkeypatch: pytest.MonkeyPatch) -> KeyReads:
    """Patch the settings groups and the schedule tables so every real read of a setting is recorded."""
    reads = KeyReads()
    classes = {name: _recording_group(cls, reads) for name, cls in GROUPS}
    monkeypatch.setattr(settings_module, "_group_class", classes.__getitem__)
    for module in (keys_module, shakify, parseq):
        monkeypatch.setattr(module, "MappingProxyType", lambda data: _RecordingSeries(data, reads))
    monkeypatch.setattr(run_inputs, "shaken_keys", _paused(reads, shakify.shaken_keys))
    monkeypatch.setattr(Settings, "to_flat", _paused(reads, Settings.to_flat))
    monkeypatch.setattr(Settings, "__eq__", _paused(reads, Settings.__eq__))
    monkeypatch.setattr(Settings, "__repr__", _paused(reads, Settings.__repr__))
    return reads
