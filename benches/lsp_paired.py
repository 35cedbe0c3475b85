#!/usr/bin/env python3
"""Paired latency of two `ftprep lsp` binaries on the therapy spec.

    python3 benches/lsp_paired.py OLD_BINARY NEW_BINARY [ROUNDS]

Both servers run at once, and each round measures one after the other in
alternating order, so that a busy machine slows both alike; the figures
are medians over the rounds and the median of the per-round ratios. The
scenarios are those of benches/lsp.rs: one change to its diagnostics, ten
changes sent back to back to the diagnostics of the last, and a hover sent
right behind those ten changes to its answer.
"""

import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
URI = "file:///bench/therapy.ftprep"
TEXT = open(os.path.join(ROOT, "specs", "therapy.ftprep"), encoding="utf-8").read()


def position(offset):
    line = TEXT.count("\n", 0, offset)
    return line, offset - (TEXT.rfind("\n", 0, offset) + 1)


EDIT = position(TEXT.index('CP1 "Does the response') + len('CP1 "Does the '))
S1 = position(TEXT.index("S1 "))


class Server:
    def __init__(self, binary):
        self.process = subprocess.Popen(
            [binary, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.version = 1
        self.id = 10
        self.send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
        self.wait(lambda m: m.get("id") == 1)
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        self.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": URI, "languageId": "ftprep", "version": 1, "text": TEXT}}})
        self.wait(self.published(1))

    def send(self, *messages):
        data = b""
        for message in messages:
            body = json.dumps(message).encode()
            data += b"Content-Length: %d\r\n\r\n" % len(body) + body
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def receive(self):
        length = 0
        while True:
            line = self.process.stdout.readline().strip()
            if not line:
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.process.stdout.read(length))

    def wait(self, done):
        while not done(self.receive()):
            pass

    def published(self, version):
        return lambda m: (
            m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["version"] == version
        )

    def change(self):
        self.version += 1
        line, character = EDIT
        return {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
            "textDocument": {"uri": URI, "version": self.version},
            "contentChanges": [{
                "range": {"start": {"line": line, "character": character},
                          "end": {"line": line, "character": character + 1}},
                "text": "r" if self.version % 2 == 0 else "R",
            }],
        }}

    def one_change(self):
        start = time.perf_counter()
        self.send(self.change())
        self.wait(self.published(self.version))
        return time.perf_counter() - start

    def burst(self):
        start = time.perf_counter()
        self.send(*[self.change() for _ in range(10)])
        self.wait(self.published(self.version))
        return time.perf_counter() - start

    def hover_in_burst(self):
        self.id += 1
        line, character = S1
        hover = {"jsonrpc": "2.0", "id": self.id, "method": "textDocument/hover", "params": {
            "textDocument": {"uri": URI}, "position": {"line": line, "character": character}}}
        start = time.perf_counter()
        self.send(*[self.change() for _ in range(10)], hover)
        spent, published = None, False
        while spent is None or not published:
            message = self.receive()
            if message.get("id") == self.id:
                assert message["result"]["contents"]["value"], message
                spent = time.perf_counter() - start
            published = published or self.published(self.version)(message)
        return spent

    def stop(self):
        self.send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        self.wait(lambda m: m.get("id") == 2)
        self.send({"jsonrpc": "2.0", "method": "exit"})
        self.process.wait()


def main():
    old, new = Server(sys.argv[1]), Server(sys.argv[2])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    for scenario in ["one_change", "burst", "hover_in_burst"]:
        times = {"old": [], "new": []}
        for i in range(rounds):
            pair = [("old", old), ("new", new)]
            for name, server in pair if i % 2 == 0 else reversed(pair):
                times[name].append(getattr(server, scenario)())
        ratio = statistics.median(n / o for o, n in zip(times["old"], times["new"]))
        print(
            f"{scenario:15} old {statistics.median(times['old']) * 1000:7.2f} ms"
            f"   new {statistics.median(times['new']) * 1000:7.2f} ms"
            f"   new/old (paired median) {ratio:.3f}"
        )
    old.stop()
    new.stop()


if __name__ == "__main__":
    main()
