"""`python -m conformance URL --group NAME`: run the checks, print each, exit 1 on any FAIL."""

from __future__ import annotations

import argparse
import asyncio
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from conformance.http import Http, new_session
from conformance.peer import Peer, listen
from conformance.report import Failed, Report, Result, print_result, print_summary
from conformance.runner import SECTIONS, Context, Options, run_checks

REQUEST_TIMEOUT = 15.0


class Unreachable(Exception):
    """The instance does not answer HTTP at all."""


@dataclass(frozen=True)
class PeerSettings:
    """Where the suite's peer listens and the URL the instance reaches it at."""

    host: str | None = None  # the name or address the instance uses to reach the peer
    port: int = 0
    bind: str | None = None
    url: str | None = None
    cert: Path | None = None  # serve https with this certificate chain and key
    key: Path | None = None

    def bind_address(self) -> str:
        return self.bind or ("0.0.0.0" if self.host else "127.0.0.1")

    def public_url(self, port: int) -> str:
        scheme = "https" if self.cert else "http"
        return self.url or f"{scheme}://{self.host or '127.0.0.1'}:{port}"

    def tls(self) -> ssl.SSLContext | None:
        if self.cert is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


async def run_suite(
    options: Options,
    peer_settings: PeerSettings = PeerSettings(),
    on_result: Callable[[Result], None] = lambda result: None,
) -> Report:
    """Start the peer, run the selected checks against the instance, stop the peer.

    Raises Unreachable when nothing answers at the instance's URL: no check could say more.
    """
    async with new_session(REQUEST_TIMEOUT) as session:
        http = Http(session)
        try:
            await http.get(options.base_url, accept="text/html")
        except Failed as exc:
            raise Unreachable(str(exc)) from exc
        listener = listen(peer_settings.bind_address(), peer_settings.port)
        public_url = peer_settings.public_url(listener.getsockname()[1])
        peer = Peer(http, public_url, options.base_url)
        await peer.start(listener, peer_settings.tls())
        try:
            report = Report(options.base_url, options.handle, public_url)
            await run_checks(Context(options, http, peer), report, on_result)
        finally:
            await peer.stop()
    return report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m conformance",
        description="Check that an ActivityPub group server federates correctly (black box).",
    )
    parser.add_argument("url", help="the instance's origin, e.g. https://groups.example")
    parser.add_argument("--group", required=True, help="the group's name (or name@domain)")
    parser.add_argument("--json", type=Path, help="also write a machine-readable report here")
    parser.add_argument("--only", action="append", default=[], metavar="SECTION_OR_CHECK",
                        help=f"run only these sections ({', '.join(SECTIONS)}) or check ids; "
                             "repeatable")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds to wait for what the instance must send (30)")  # fmt: skip
    parser.add_argument("--grace", type=float, default=3.0,
                        help="seconds to watch for something it must not send (3)")  # fmt: skip
    peer = parser.add_argument_group(
        "peer", "the suite's own server, which the instance must be able to reach: the default "
        "(127.0.0.1, a free port) suits a local instance; a public instance needs --peer-host"
    )  # fmt: skip
    peer.add_argument("--peer-host", help="name or address the instance reaches the peer at")
    peer.add_argument("--peer-port", type=int, default=0, help="port to listen on (0 = any)")
    peer.add_argument(
        "--peer-bind", help="address to listen on (127.0.0.1, or 0.0.0.0 with --peer-host)"
    )
    peer.add_argument("--peer-url", help="public URL of the peer when a proxy fronts it")
    peer.add_argument(
        "--peer-cert",
        type=Path,
        help="serve the peer over https with this "
        "certificate chain (PEM); public fedgroups instances only talk https",
    )
    peer.add_argument("--peer-key", type=Path, help="the private key of --peer-cert (PEM)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    options = Options(
        base_url=args.url.rstrip("/"),
        group=args.group,
        timeout=args.timeout,
        grace=args.grace,
        only=tuple(args.only),
    )
    settings = PeerSettings(
        args.peer_host, args.peer_port, args.peer_bind, args.peer_url, args.peer_cert, args.peer_key
    )
    try:
        report = asyncio.run(
            run_suite(options, settings, lambda result: print_result(result, sys.stdout))
        )
    except Unreachable as exc:
        sys.stderr.write(f"error: the instance cannot be reached: {exc}\n")
        return 2
    print_summary(report, sys.stdout)
    if args.json:
        report.write_json(args.json)
    return 0 if report.ok else 1
