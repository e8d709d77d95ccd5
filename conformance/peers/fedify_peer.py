"""Drive `peers/fedify/peer.mjs`: Fedify 1.5 as an independent, Mastodon-like server.

`FedifyPeer.start()` runs the node process on a free loopback port and waits until it answers;
each method is one call of its control API. Everything federated (signatures, WebFinger,
NodeInfo, inbox verification) is Fedify's; what the peer received is read back exactly as it
crossed the wire, and only once Fedify verified it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

FOLDER = Path(__file__).resolve().parent / "fedify"
READY_TIMEOUT = 20.0
CALL_TIMEOUT = 30.0  # a control call may fetch, sign and deliver before it answers


def missing() -> str | None:
    """Why the peer cannot run here (no node, or `npm ci` not run), or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (FOLDER / "node_modules" / "@fedify" / "fedify").is_dir():
        return "Fedify peer not installed: run `make peers`"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PeerError(RuntimeError):
    """A control call failed; the message carries the peer's own explanation."""


@dataclass(frozen=True)
class Person:
    """A Person actor hosted by the peer."""

    name: str
    id: str
    handle: str  # name@host:port, as `fedgroups group approve` takes it
    inbox: str
    shared_inbox: str


@dataclass
class FedifyPeer:
    """One running peer process and the control calls it answers."""

    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def domain(self) -> str:
        """host:port, as `fedgroups domain block` takes it."""
        return self.base_url.removeprefix("http://")

    @classmethod
    def start(cls, log_dir: Path, count: int = 1) -> list[FedifyPeer]:
        """`count` peers, each its own server on its own port, started side by side."""
        reason = missing()
        if reason is not None:
            raise RuntimeError(reason)
        peers = [cls.launch(log_dir) for _ in range(count)]
        try:
            for peer in peers:
                peer.wait_until_ready()
        except BaseException:
            for peer in peers:
                peer.stop()
            raise
        return peers

    @classmethod
    def launch(cls, log_dir: Path) -> FedifyPeer:
        """Start the process without waiting: boot several, or boot while other work runs."""
        port = _free_port()
        log_dir.mkdir(parents=True, exist_ok=True)
        log_path = log_dir / f"fedify-peer-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                ["node", "peer.mjs", str(port)], cwd=FOLDER, stdout=log, stderr=subprocess.STDOUT
            )
        return cls(base_url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)

    def wait_until_ready(self) -> None:
        """Return once the peer answers; raise (leaving it to `stop`) if it never does."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"fedify peer exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/control/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"fedify peer did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    # --- control calls ---------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(
            method, f"{self.base_url}/control/{path}", json=body, timeout=CALL_TIMEOUT
        )
        if response.status_code != 200:
            raise PeerError(f"{path}: {response.status_code} {response.text}")
        return response.json()

    def create_person(self, name: str) -> Person:
        data = self._call("POST", "persons", {"name": name})
        return Person(
            name=name,
            id=data["id"],
            handle=data["handle"],
            inbox=data["inbox"],
            shared_inbox=data["sharedInbox"],
        )

    def lookup(self, handle: str) -> dict[str, Any]:
        """Find an actor by `@name@host` (WebFinger, then its document), as Fedify parsed it."""
        return dict(self._call("POST", "lookup", {"handle": handle})["object"])

    def follow(self, person: Person, target: str) -> str:
        """Follow `target` (a handle or actor id); returns the Follow's id."""
        return str(self._call("POST", "follow", {"person": person.name, "target": target})["id"])

    def unfollow(self, person: Person, target: str) -> str:
        """Undo the Follow of `target`; returns the Undo's id."""
        body = {"person": person.name, "target": target}
        return str(self._call("POST", "unfollow", body)["id"])

    def post(
        self,
        person: Person,
        content: str,
        *,
        mention: str | None = None,
        visibility: str = "public",
        in_reply_to: str | None = None,
        poll: list[str] | None = None,
        deliver_to: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """A status (a Question when `poll` is given) as Mastodon addresses it.

        `visibility` is public, unlisted, followers or direct. Returns `id` (the object's),
        `activity` (the Create as sent) and `object`.
        """
        body = {
            "person": person.name,
            "content": content,
            "mention": mention,
            "visibility": visibility,
            "inReplyTo": in_reply_to,
            "poll": poll,
            "deliverTo": list(deliver_to),
        }
        return dict(self._call("POST", "notes", body))

    def vote(
        self, person: Person, question: str, option: str, *, deliver_to: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """A poll vote, addressed to the poll's author and delivered also to `deliver_to`."""
        body = {
            "person": person.name,
            "question": question,
            "option": option,
            "deliverTo": list(deliver_to),
        }
        return dict(self._call("POST", "votes", body))

    def edit(self, person: Person, note: str, content: str) -> dict[str, Any]:
        """Update{Note} with new content and `updated`; returns the Update as sent."""
        body = {"person": person.name, "note": note, "content": content}
        return dict(self._call("POST", "edit", body)["activity"])

    def delete(self, person: Person, note: str) -> dict[str, Any]:
        """Delete{Tombstone}; the note answers 404 from then on. Returns the Delete as sent."""
        return dict(self._call("POST", "delete", {"person": person.name, "note": note})["activity"])

    def received(
        self, kind: str | None = None, object_id: str | None = None, *, actor: str | None = None
    ) -> list[dict[str, Any]]:
        """Activities Fedify verified on any of this server's inboxes, oldest first.

        `object_id` matches the activity's object given by id or embedded (so an Announce of a
        Create matches the Create's id, not the note's: see `announces_of`).
        """
        found = [entry["activity"] for entry in self._call("GET", "received")]
        if kind is not None:
            found = [activity for activity in found if activity.get("type") == kind]
        if object_id is not None:
            found = [activity for activity in found if object_of(activity) == object_id]
        if actor is not None:
            found = [activity for activity in found if activity.get("actor") == actor]
        return found

    def announces_of(self, note_id: str) -> list[dict[str, Any]]:
        """Announces of the note: by id (Mastodon style) or of its Create (FEP-1b12 style)."""
        return [
            activity
            for activity in self.received("Announce")
            if note_id in (object_of(activity), inner_object_of(activity))
        ]

    def deliveries(self) -> list[dict[str, Any]]:
        """Every POST to one of this server's inboxes, with the status Fedify answered."""
        return list(self._call("GET", "deliveries"))


def object_of(activity: dict[str, Any]) -> str | None:
    """The id of an activity's object, whether given by id or embedded."""
    target = activity.get("object")
    if isinstance(target, dict):
        target = target.get("id")
    return target if isinstance(target, str) else None


def inner_object_of(activity: dict[str, Any]) -> str | None:
    """For an Announce of an embedded activity (FEP-1b12), the id of that activity's object."""
    target = activity.get("object")
    return object_of(target) if isinstance(target, dict) else None


@contextmanager
def running_peers(log_dir: Path, count: int = 1) -> Iterator[list[FedifyPeer]]:
    """`count` peers for the duration of the block; their logs are kept in `log_dir`."""
    peers = FedifyPeer.start(log_dir, count)
    try:
        yield peers
    finally:
        for peer in peers:
            peer.stop()
