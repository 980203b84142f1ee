# SPDX-License-Identifier: ISC
"""history's reply is valid JSON whatever runs.jsonl holds (SPEC §11): the
records go out as the raw text of their lines, so a line that is JSON but
not an object, an object without a string "name", text that only looks
like JSON, or strings holding "]", "," and escaped newlines must neither
break the reply nor be sent as a run."""
import json
import os
import unittest

from supdtest import SupdCase, Conn

SKIPPED = [                  # not records: counted in "skipped"
    b'[1,2,3]', b'"just a string"', b'42', b'null',
    b'{"name": "ok", "run": 12} {"name": "ok"}',
    b'{"name": "ok", "run": 13, "bad": "\xff\xfe"}',
    b'{"name": "ok", "run": 14, "nul": "a\\u0000b"}',
    b'{"name": "ok", "run": 15}\x00',
    b'{"name": "ok", "run": 16, "n": 1e999}',
    b'{"name": "ok", "run": 18, "s": "\\ud800"}',
    b'{"name": "ok", "run": 20, "deep": ' + b'[' * 3000 + b']' * 3000 + b'}',
    b'{"name": "ok", "run": 23, "raw": "tab\there"}',
]
IGNORED = [                  # objects that are no run of a job: left out
    b'{}', b'{"noname": 1}', b'{"name": 5, "run": 1}', b'{"name": null}', b'{"name": ["ok"]}',
]
SENT = [                     # odd but valid records of "ok"
    (7, b'{"name": "ok", "error": "a ] b } c \\n d \\"e\\" ,", "run": 7}'),
    (8, b'{"name": "ok", "run": 8, "x": "\\u005d\\u000a"}'),
    (9, b'{"name": "ok", "run": 9}   '),
    (10, b'  {"name": "ok", "run": 10}'),
    (11, b'{"name": "ok", "run": 11}\r'),
    (17, b'{"name": "ok", "run": 17, "dup": 1, "dup": 2}'),
    (19, b'{"name": "o\\u006b", "run": 19}'),
]


class OddLinesTest(SupdCase):
    CONFIG = """
        [job:ok]
        command = true
        autostart = false
        """

    def test_reply_is_json(self):
        self.ctl("run", "ok")
        with open(os.path.join(self.state_dir, "runs.jsonl"), "ab") as f:
            for line in SKIPPED + IGNORED + [l for _, l in SENT]:
                f.write(line + b"\n")
        want = [1] + [n for n, _ in SENT]
        for lines, expect in ((0, want), (3, want[-3:]), (100, want)):
            req = {"cmd": "history", "lines": lines} if lines else {"cmd": "history"}
            with Conn(self.sock) as c:
                c.send(req)
                raw = c.recv_line()
            rep = json.loads(raw)          # fails if the reply is not JSON
            self.assertTrue(rep["ok"], raw[:300])
            self.assertEqual([r["run"] for r in rep["runs"]], expect)
            self.assertTrue(all(r["name"] == "ok" for r in rep["runs"]))
            self.assertEqual(rep["skipped"], len(SKIPPED))
        r = self.ctl("--json", "history")
        self.assertEqual([json.loads(l)["run"] for l in r.stdout.splitlines()], want)


if __name__ == "__main__":
    unittest.main(verbosity=2)
