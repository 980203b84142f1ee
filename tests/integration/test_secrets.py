# SPDX-License-Identifier: ISC
"""secret = FD PATH (SPEC §8, issue 12): supd reads PATH when a run starts
and hands every stage its own pipe holding the whole secret at fd FD. The
secret never shows in argv, the environment, status, history, events,
logs or supd's own log."""
import json
import os
import shutil
import subprocess
import unittest

from supdtest import SupdCase, read_file, wait_for, IS_ROOT, NOBODY, T_SHORT
from test_logs_events import ctl_popen, LineReader

PASSPHRASE = "correct-horse-battery-staple-7f3a91"


def openssl():
    return shutil.which("openssl")


@unittest.skipUnless(openssl(), "needs openssl")
class OpensslTest(SupdCase):
    """The demo's pattern: openssl enc -pass fd:3 with secret = 3 PATH."""
    CONFIG = """
        [job:enc@]
        command = openssl enc -aes-256-cbc -pbkdf2 -salt -pass fd:3 -in {d}/in/%i -out {d}/out/%i.enc
        secret = 3 {d}/keys/%i.pass
        autostart = false
        """

    def setUp(self):
        super().setUp()
        for sub in ("in", "out", "keys"):
            os.mkdir(f"{self.d}/{sub}")
        self.plain = os.urandom(100000)
        with open(f"{self.d}/in/a.bin", "wb") as f:
            f.write(self.plain)
        self.write("keys/a.bin.pass", PASSPHRASE + "\n", 0o600)

    def test_round_trip(self):
        r = self.ctl("run", "enc@a.bin")
        self.assertEqual(r.returncode, 0, self.msg("", r))
        enc = f"{self.d}/out/a.bin.enc"
        with open(enc, "rb") as f:
            self.assertNotIn(self.plain[:64], f.read())
        # decrypted with the passphrase given directly: the job used it
        out = subprocess.run([openssl(), "enc", "-d", "-aes-256-cbc", "-pbkdf2", "-pass",
                              f"pass:{PASSPHRASE}", "-in", enc], capture_output=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, self.plain)
        wrong = subprocess.run([openssl(), "enc", "-d", "-aes-256-cbc", "-pbkdf2", "-pass",
                                "pass:wrong", "-in", enc], capture_output=True)
        self.assertNotEqual(wrong.stdout, self.plain)


class PipelineTest(SupdCase):
    """1 MiB, the most a secret may hold, read whole by each stage of a
    two-stage pipeline from a pipe of its own."""
    CONFIG = """
        [job:both]
        command = sh -c 'wc -c <&3 > {d}/one; echo to-the-next' | sh -c 'cat > {d}/piped; wc -c <&3 > {d}/two'
        secret = 3 {d}/big.pass
        autostart = false

        [job:two]
        command = sh -c 'cat <&3 <&4 > {d}/four; cat <&3 > {d}/three'
        secret = 4 {d}/small.pass
        secret = 3 {d}/big.pass
        autostart = false

        [job:missing]
        command = true
        secret = 3 {d}/nope/%n.pass
        autostart = false

        [job:notafile]
        command = true
        secret = 3 {d}
        autostart = false
        """

    def setUp(self):
        super().setUp()
        with open(f"{self.d}/big.pass", "wb") as f:
            f.write(b"s" * (1 << 20))
        self.write("small.pass", "small", 0o600)

    def test_each_stage_whole(self):
        r = self.ctl("run", "both")
        self.assertEqual(r.returncode, 0, self.msg("", r))
        self.assertEqual(read_file(f"{self.d}/one", "").strip(), str(1 << 20))
        self.assertEqual(read_file(f"{self.d}/two", "").strip(), str(1 << 20))
        self.assertEqual(read_file(f"{self.d}/piped", ""), "to-the-next\n")

    def test_two_secrets(self):
        r = self.ctl("run", "two")
        self.assertEqual(r.returncode, 0, self.msg("", r))
        self.assertEqual(read_file(f"{self.d}/four", ""), "small")
        self.assertEqual(len(read_file(f"{self.d}/three", "")), 1 << 20)

    def test_missing_is_fatal_with_path(self):
        r = self.ctl("run", "missing")
        self.assertNotEqual(r.returncode, 0, self.msg("", r))
        j = self.job("missing")
        self.assertEqual(j["state"], "fatal", self.msg(json.dumps(j)))
        self.assertEqual(j["error"], f"secret {self.d}/nope/missing.pass: No such file or directory")
        r = self.ctl("run", "notafile")
        j = self.job("notafile")
        self.assertEqual(j["state"], "fatal", self.msg(json.dumps(j)))
        self.assertTrue(j["error"].startswith(f"secret {self.d}: "), j["error"])


class NowhereElseTest(SupdCase):
    """The secret's text is in no place supd shows or keeps."""
    CONFIG = """
        [job:quick]
        command = true
        autostart = false

        [job:holder]
        command = sh -c 'read -r line <&3; echo "got ${#line} bytes"; exec sleep 300'
        secret = 3 {d}/the.pass
        stdout = log
        autostart = false

        [job:bad]
        command = true
        secret = 3 {d}/the.pass-gone
        autostart = false
        """

    def setUp(self):
        super().setUp()
        self.write("the.pass", PASSPHRASE + "\n", 0o600)

    def events_cli(self):
        p = ctl_popen(self, "--json", "events")
        rd = LineReader(p)
        for _ in range(50):
            self.ctl("run", "quick", check=0)
            if rd.wait_until(lambda ls: any('"quick"' in l for l in ls), 1.0):
                return rd
        self.fail("supctl events printed nothing")

    def test_absent_everywhere(self):
        rd = self.events_cli()
        self.ctl("start", "holder", check=0)
        pid = self.wait_running("holder")["pid"]
        self.assertTrue(wait_for(lambda: "got" in self.ctl("logs", "holder", check=0).stdout),
                        self.msg("the job read its secret"))
        self.assertIn(f"got {len(PASSPHRASE)} bytes", self.ctl("logs", "holder", check=0).stdout)
        places = {}
        with open(f"/proc/{pid}/environ", "rb") as f:
            places["environ"] = f.read().decode(errors="replace")
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            places["cmdline"] = f.read().decode(errors="replace")
        # fd 3 of the job is a pipe, not the file
        self.assertTrue(os.readlink(f"/proc/{pid}/fd/3").startswith("pipe:"))
        places["status"] = self.ctl("--json", "status", check=0).stdout
        self.ctl("stop", "holder", check=0)
        self.ctl("run", "bad", check=126)
        places["status after"] = self.ctl("--json", "status", check=0).stdout
        places["history"] = self.ctl("--json", "history", check=0).stdout
        places["runs.jsonl"] = read_file(os.path.join(self.state_dir, "runs.jsonl"), "")
        places["logs"] = self.ctl("logs", "holder", check=0).stdout
        self.assertTrue(rd.wait_until(lambda ls: any('"holder"' in l and '"exited"' in l for l in ls),
                                      T_SHORT))
        places["events"] = "\n".join(rd.collect())
        for where in ("status after", "supd log"):
            self.assertIn(f"secret {self.d}/the.pass-gone: No such file or directory",
                          places.get(where, self.daemon_log(0)), f"the path shows in {where}")
        places["supd log"] = self.daemon_log(0)
        for where, text in places.items():
            self.assertNotIn(PASSPHRASE, text, f"the secret shows in {where}")
            self.assertNotIn(PASSPHRASE[:12], text, f"part of the secret shows in {where}")
        self.assertIn('"holder"', places["events"])
        self.assertIn("holder", places["runs.jsonl"])


@unittest.skipUnless(IS_ROOT, "user = needs root")
class RootOnlyFileTest(SupdCase):
    """supd reads a secret as itself: a root-only 0600 file works for a job
    running as nobody, which could not open it."""
    CONFIG = """
        [job:asnobody]
        command = sh -c 'id -u > {d}/pub/uid; cat <&3 > {d}/pub/got; cat {d}/keys/root.pass > {d}/pub/direct 2>&1 || echo refused > {d}/pub/direct'
        user = nobody
        secret = 3 {d}/keys/root.pass
        autostart = false
        """

    def setUp(self):
        super().setUp()
        os.mkdir(f"{self.d}/pub")
        os.chmod(f"{self.d}/pub", 0o777)
        os.mkdir(f"{self.d}/keys", 0o700)
        self.write("keys/root.pass", PASSPHRASE, 0o600)

    def test_root_only_secret(self):
        r = self.ctl("run", "asnobody")
        self.assertEqual(r.returncode, 0, self.msg("", r))
        self.assertEqual(read_file(f"{self.d}/pub/uid", "").strip(), str(NOBODY))
        self.assertEqual(read_file(f"{self.d}/pub/got", ""), PASSPHRASE)
        self.assertEqual(read_file(f"{self.d}/pub/direct", "").strip(), "refused",
                         "the job itself cannot read the file")


if __name__ == "__main__":
    unittest.main(verbosity=2)
