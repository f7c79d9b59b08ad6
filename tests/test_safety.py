"""Safety of the catalogue and the engine: loopback only, no unpickling of network
bytes by any fix, no shell. (Reports escaping user strings: tests/report/test_html.py.)

The source checks read the code with ``ast``, so that a new scenario is checked
without a new test; the run-time checks watch every socket bind and every
unpickling while the network scenarios run.
"""

from __future__ import annotations

import ast
import pickle
import pickletools
import re
import socket
from pathlib import Path

import pytest

from harness.runner import run_variant
from harness.scenario import HOLDS, catalogue
from scenarios import _net, thread_server

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "harness").rglob("*.py")) + sorted((ROOT / "scenarios").rglob("*.py"))
LOOPBACK = "127.0.0.1"
#: Modules that, once imported, let code talk to the network.
NETWORK_MODULES = {"socket", "socketserver", "http", "urllib", "asyncio", "ssl", "scenarios._net"}
#: Modules that turn bytes into objects by running code the bytes choose.
UNPICKLERS = {"pickle", "_pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle"}


def parsed():
    for path in SOURCES:
        yield path.relative_to(ROOT), ast.parse(path.read_text(encoding="utf-8"))


def imported(tree) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names | {name.split(".")[0] for name in names}


def called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def is_loopback(node: ast.expr) -> bool:
    """``"127.0.0.1"`` or the ``LOCALHOST`` constant of scenarios/_net.py."""
    if isinstance(node, ast.Constant):
        return node.value == LOOPBACK
    if isinstance(node, ast.Name):
        return node.id == "LOCALHOST"
    return isinstance(node, ast.Attribute) and node.attr == "LOCALHOST"


def test_the_sources_are_found():
    names = {path.name for path in SOURCES}
    assert {"_net.py", "thread_server.py", "scheduler.py", "cli.py"} <= names


# -- 127.0.0.1 only ------------------------------------------------------------------


#: The standard library's servers: their first argument is the address they bind.
STDLIB_SERVERS = {
    "TCPServer",
    "UDPServer",
    "ThreadingTCPServer",
    "ThreadingUDPServer",
    "ForkingTCPServer",
    "HTTPServer",
    "ThreadingHTTPServer",
}


def server_classes(trees) -> set[str]:
    """The standard library's servers and every class of ours built on one."""
    servers = set(STDLIB_SERVERS)
    for _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(base).rsplit(".", 1)[-1] for base in node.bases}
                if bases & STDLIB_SERVERS:
                    servers.add(node.name)
    return servers


def test_every_bind_in_the_source_is_to_loopback():
    assert _net.LOCALHOST == LOOPBACK
    trees = list(parsed())
    servers = server_classes(trees)
    binds = []
    for path, tree in trees:
        if not imported(tree) & NETWORK_MODULES:
            continue  # no socket here (inspect.Signature.bind is no bind)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = called_name(node)
            # sock.bind(address), socket.create_server(address), SomeServer(address, ...)
            if name in ("bind", "create_server") or name in servers:
                where = f"{path}:{node.lineno}: {ast.unparse(node)}"
                address = node.args[0] if node.args else None
                assert isinstance(address, ast.Tuple) and address.elts, where
                assert is_loopback(address.elts[0]), f"not bound to {LOOPBACK}: {where}"
                binds.append(where)
    assert len(binds) >= 2, binds  # the listener and the HTTP server of scenarios/_net.py


def test_network_modules_hold_no_address_but_loopback():
    address = re.compile(r"\d{1,3}(\.\d{1,3}){3}|localhost|0\.0\.0\.0|::1?|\[::\]")
    for path, tree in parsed():
        if not imported(tree) & NETWORK_MODULES:
            continue  # e.g. join_order's hosts are labels: nothing there can connect
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and address.fullmatch(text.strip()):
                assert text == LOOPBACK, f"{path}:{node.lineno}: {text!r}"


def network_scenarios():
    names = []
    for name in catalogue():
        tree = ast.parse((ROOT / "scenarios" / f"{name}.py").read_text(encoding="utf-8"))
        if imported(tree) & NETWORK_MODULES:
            names.append(name)
    return names


def harmless(data: bytes) -> bool:
    """A pickle that can only build plain data: no global looked up, nothing called."""
    risky = {"GLOBAL", "STACK_GLOBAL", "REDUCE", "BUILD", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX"}
    risky |= {"PERSID", "BINPERSID", "EXT1", "EXT2", "EXT4"}
    return not any(op.name in risky for op, _, _ in pickletools.genops(data))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", network_scenarios())
def test_at_run_time_binds_are_loopback_and_no_fix_unpickles(name, monkeypatch, no_leaks):
    binds, unpickled = [], []
    current = []
    real_bind, real_loads = socket.socket.bind, pickle.loads

    def bind(sock, address):
        binds.append((current[-1], address))
        return real_bind(sock, address)

    def loads(data, *args, **kwargs):
        unpickled.append((current[-1], bytes(data)))
        if not harmless(data):
            raise AssertionError(f"{current[-1]} unpickled code-running bytes: {data[:60]!r}")
        return real_loads(data, *args, **kwargs)

    def refuse(*args, **kwargs):
        raise AssertionError(f"{current[-1]} unpickled a stream")

    monkeypatch.setattr(socket.socket, "bind", bind)
    monkeypatch.setattr(pickle, "loads", loads)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    scenario = catalogue()[name]
    for variant in scenario.variants.values():
        current.append(variant)
        run = run_variant(scenario, variant, "stress", {"runs": 1, "seed": 0})
        assert run.met, f"{name}:{variant.name}: {run.observed}"
    assert binds, f"{name} imports the network but bound nothing"
    for variant, address in binds:
        assert isinstance(address, tuple) and address[0] == LOOPBACK, (variant.name, address)
    assert all(variant.expect != HOLDS for variant, _ in unpickled), "a fix unpickled"
    if name == "thread_server":  # the article's demonstration does unpickle, harmlessly
        assert unpickled and all(v.name == "buggy" for v, _ in unpickled)
        assert {real_loads(data) == thread_server.GREETING for _, data in unpickled} == {True}


# -- no unpickling of network bytes by a fix ----------------------------------------


def test_only_the_buggy_pickle_demonstration_imports_an_unpickler():
    users = {str(path) for path, tree in parsed() if imported(tree) & UNPICKLERS}
    assert users == {str(Path("scenarios", "thread_server.py"))}, users


def test_no_fixed_variant_shows_or_calls_pickle():
    for scenario in catalogue().values():
        for variant in scenario.variants.values():
            if variant.expect != HOLDS:
                continue
            for qualname, text in variant.sources():
                assert "pickle" not in text, f"{scenario.name}:{variant.name} {qualname}"


def test_the_pickle_demonstration_sends_only_its_harmless_greeting():
    tree = ast.parse(Path(thread_server.__file__).read_text(encoding="utf-8"))
    dumped = [
        ast.unparse(node.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and called_name(node) in ("dumps", "dump")
    ]
    assert dumped == ["GREETING"], dumped
    assert harmless(pickle.dumps(thread_server.GREETING))
    assert all(type(item) is int for item in thread_server.GREETING)
    assert not harmless(pickle.dumps(Path("x"))), "the opcode check must see a global"
    assert "harmless" in (thread_server.__doc__ or "")


@pytest.mark.timeout(10)
def test_the_fixes_frames_are_json_and_refuse_a_pickle():
    left, right = socket.socketpair()
    with left, right:
        _net.send_frame(left, {"n": [1, 2], "s": "x"})
        assert _net.recv_frame(right) == {"n": [1, 2], "s": "x"}
        body = pickle.dumps(Path("x"))  # a pickle that would look a global up
        left.sendall(len(body).to_bytes(4, "big") + body)
        with pytest.raises(ValueError):  # JSON's error (or UnicodeDecodeError): never loaded
            _net.recv_frame(right)


# -- no shell ------------------------------------------------------------------------


def test_no_shell_anywhere():
    shells = {"system", "popen", "getoutput", "getstatusoutput", "spawnlp", "spawnvp"}
    for path, tree in parsed():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            where = f"{path}:{node.lineno}: {ast.unparse(node)[:80]}"
            for keyword in node.keywords:
                if keyword.arg == "shell":
                    is_false = isinstance(keyword.value, ast.Constant) and not keyword.value.value
                    assert is_false, f"shell=: {where}"
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in shells:
                owner = ast.unparse(func.value)
                assert owner not in ("os", "subprocess", "commands"), f"a shell: {where}"
