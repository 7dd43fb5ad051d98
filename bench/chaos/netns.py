"""A network namespace joined to the root one by a veth pair, whose link can be cut silently.

Processes started through ``command`` live in the namespace and reach the root namespace at
``host_address`` (servers there must listen on it); the root reaches them at ``address``. A
cut drops packets as they arrive at either end of the link (nftables ``netdev`` ingress hooks
on the two veth devices): neither side's TCP stack hears a thing, no RST, no ICMP, as when a
switch or a firewall between two machines loses packets. In the root namespace the rules are
a table bound to the link's own device, removed on ``heal`` and with the device. Needs root,
iproute2 and nftables.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import uuid


class NamespaceError(RuntimeError):
    """The namespace could not be made (not root, or ``ip``/``nft`` missing)."""


def _run(*command: str, stdin: str | None = None) -> str:
    done = subprocess.run(command, input=stdin, capture_output=True, text=True)
    if done.returncode != 0:
        raise NamespaceError(f"{' '.join(command)}: {done.stderr.strip()}")
    return done.stdout


def available() -> str | None:
    """Why namespaces cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool, package in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (Debian's {package})"
    return None


class Namespace:
    """One namespace, ``modx-<hex>``, on a /30 of its own in 10.200.0.0/13 (chosen at random)."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.name = f"modx-{tag}"
        self._host_dev, self._ns_dev = f"mx{tag}h", f"mx{tag}n"  # 15 characters at most
        block = random.randrange(200 * 2**14, 208 * 2**14)  # /30 blocks, in 10.200-207.x.x
        base = block * 4
        self.host_address = f"10.{base >> 16 & 255}.{base >> 8 & 255}.{(base & 255) + 1}"
        self.address = f"10.{base >> 16 & 255}.{base >> 8 & 255}.{(base & 255) + 2}"
        self.made = False
        self.cut_ports: tuple[int, ...] | None = None

    def create(self) -> None:
        """Make the namespace and its link (removed again when this fails half way)."""
        reason = available()
        if reason:
            raise NamespaceError(reason)
        _run("ip", "netns", "add", self.name)
        self.made = True
        try:
            _run(
                *("ip", "link", "add", self._host_dev, "type", "veth"),
                *("peer", "name", self._ns_dev, "netns", self.name),
            )
            _run("ip", "addr", "add", f"{self.host_address}/30", "dev", self._host_dev)
            _run("ip", "link", "set", self._host_dev, "up")
            inside = ("ip", "-n", self.name)
            _run(*inside, "addr", "add", f"{self.address}/30", "dev", self._ns_dev)
            _run(*inside, "link", "set", self._ns_dev, "up")
            _run(*inside, "link", "set", "lo", "up")
        except BaseException:
            self.delete()
            raise

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *argv]

    def cut(self, ports: tuple[int, ...] = ()) -> None:
        """Drop every packet on the link, or only TCP to and from ``ports`` (on either end),
        silently, until ``heal``.

        Packets are dropped as they arrive at either end (ingress), never as they leave: a
        packet dropped on its way out is a local drop to the sender's TCP stack, which then
        retries its keepalive probes without counting them, and never finds the link dead.
        """
        if ports:
            listed = ", ".join(map(str, ports))
            drop = f"tcp sport {{ {listed} }} drop; tcp dport {{ {listed} }} drop;"
        else:
            drop = "drop;"
        for inside, dev in ((True, self._ns_dev), (False, self._host_dev)):
            rules = (
                f"table netdev {self._table} {{\n"
                f'  chain inbound {{ type filter hook ingress device "{dev}" priority 0;\n'
                f"    {drop} }}\n"
                "}\n"
            )
            _run(*self._nft(inside), "-f", "-", stdin=rules)
        self.cut_ports = ports

    @property
    def _table(self) -> str:
        # The root namespace's table is bound to our own device only, and named after it.
        return f"modx_cut_{self._host_dev}"

    def _nft(self, inside: bool) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.name, "nft") if inside else ("nft",)

    def heal(self) -> None:
        """Pass every packet again (connections that lived through the cut carry on)."""
        if self.cut_ports is None:
            return
        for inside in (True, False):
            _run(*self._nft(inside), "delete", "table", "netdev", self._table)
        self.cut_ports = None

    def delete(self) -> None:
        """Kill what still runs inside, then remove the namespace (and with it the link)."""
        if not self.made:
            return
        pids = subprocess.run(
            ["ip", "netns", "pids", self.name], capture_output=True, text=True
        ).stdout.split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
        # The root end goes with its peer; remove it by name should a kernel keep it.
        subprocess.run(["ip", "link", "del", self._host_dev], capture_output=True)
        subprocess.run(
            [*self._nft(False), "delete", "table", "netdev", self._table], capture_output=True
        )
        self.made = False
