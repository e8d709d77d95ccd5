"""Pages every anonymous reader sees alike, kept per process with the version they show.

Only what `visibility.is_everyones_view` allows is put here, rendered without anything of one
browser's (`templating.render_anonymous`). An entry serves a request only if the version that
request read is the one the entry was rendered at; otherwise it is rendered again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from fedgroups.groups.freshness import PageVersion

SIZE = 512  # pages kept per process (about 20 KB each)


class SharedPages:
    def __init__(self, size: int = SIZE) -> None:
        self._size = size
        self._pages: OrderedDict[Hashable, tuple[PageVersion, str]] = OrderedDict()

    def get(self, key: Hashable, version: PageVersion) -> str | None:
        found = self._pages.get(key)
        if found is None or found[0] != version:
            return None
        self._pages.move_to_end(key)
        return found[1]

    def put(self, key: Hashable, version: PageVersion, html: str) -> None:
        self._pages[key] = (version, html)
        self._pages.move_to_end(key)
        while len(self._pages) > self._size:
            self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)
