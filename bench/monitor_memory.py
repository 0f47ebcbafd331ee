#!/usr/bin/env python3
"""The monitor's own memory, before and after attach support, side by side in one run.

Builds Monitor/monitor.c of BASE (a git revision, default the commit before attach support)
and of the work tree the way SwiftPM does (clang -O2, linked by swiftc, so both carry the
same Swift runtime pages), then runs each as it runs under the agent: fd 3/4 the container's
output pipes, fd 5 absent (pidfd opened by pid), a `sleep` as the watched process. Measured
from /proc/PID/smaps_rollup: RSS, PSS and private (clean + dirty) KiB,
  idle         after start, nothing written
  logged       after 20 MiB of output lines through the CRI log
and for the new monitor only (the old one has no socket):
  attached     16 clients reading all output while another 20 MiB goes through
  hostile      a client that never reads, one flooding stdin of a container that never reads
               (the stdin pipe's reader never reads), 20 MiB more output
Prints a table and writes OUT/monitor-memory.json. Needs python3, clang and swiftc
(/opt/swift/usr/bin), git. Removes everything it starts.
"""
import json, os, shutil, socket, struct, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = os.environ.get("BASE", "8d9d6c2")
OUT = os.environ.get("OUT", os.path.join(ROOT, "bench", "results"))
TOOLS = "/opt/swift/usr/bin"
LINE = b"x" * 99 + b"\n"


def build(source_text, work, name):
    c = os.path.join(work, name + ".c")
    with open(c, "w") as f:
        f.write(source_text)
    subprocess.check_call([TOOLS + "/clang", "-O2", "-c", c, "-o", c + ".o"])
    subprocess.check_call([TOOLS + "/swiftc", c + ".o", "-o", os.path.join(work, name)])
    return os.path.join(work, name)


def memory(pid):
    fields = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                fields[parts[0].rstrip(":")] = int(parts[1])
    return {"rss": fields["Rss"], "pss": fields["Pss"],
            "private": fields["Private_Clean"] + fields["Private_Dirty"]}


def write_lines(fd, mib):
    chunk = LINE * 10240
    for _ in range(mib):
        os.write(fd, chunk)


class Monitor:
    def __init__(self, binary, work, attach):
        self.work = work
        self.target = subprocess.Popen(["sleep", "600"])
        self.out_r, self.out_w = os.pipe()
        self.err_r, self.err_w = os.pipe()
        self.in_r, self.in_w = os.pipe()
        argv = [binary, "--log", os.path.join(work, os.path.basename(binary) + ".log"),
                "--exit-file", os.path.join(work, os.path.basename(binary) + ".exit")]
        self.pidfd = os.pidfd_open(self.target.pid)
        fds = {3: self.out_r, 4: self.err_r, 5: self.pidfd}
        self.path = None
        if attach:
            self.path = os.path.join(work, "attach")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(self.path)
            listener.listen(16)
            fds[6] = self.in_w
            fds[7] = listener.fileno()
            argv += ["--stdin", "--attach", self.path]
        argv.append(str(self.target.pid))

        def child():
            for target, fd in fds.items():
                os.dup2(fd, target)
        self.proc = subprocess.Popen(argv, preexec_fn=child, pass_fds=list(fds.keys()), close_fds=True)
        if attach:
            listener.close()
        os.close(self.out_r)
        os.close(self.err_r)
        os.close(self.in_w)
        time.sleep(0.3)

    def client(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.path)
        return s

    def stop(self):
        self.target.kill()
        self.target.wait()
        for fd in (self.out_w, self.err_w, self.in_r, self.pidfd):
            os.close(fd)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def drain(clients, stop):
    import threading
    def run(s):
        s.settimeout(0.5)
        while not stop.is_set():
            try:
                if not s.recv(65536):
                    return
            except socket.timeout:
                continue
            except OSError:
                return
    threads = [threading.Thread(target=run, args=(s,)) for s in clients]
    for t in threads:
        t.start()
    return threads


def main():
    import threading
    work = tempfile.mkdtemp(prefix="swiftlet-monbench.")
    results = {}
    try:
        old_src = subprocess.check_output(["git", "-C", ROOT, "show", BASE + ":Monitor/monitor.c"]).decode()
        new_src = open(os.path.join(ROOT, "Monitor", "monitor.c")).read()
        binaries = {"before": build(old_src, work, "monitor-before"), "after": build(new_src, work, "monitor-after")}
        for label, binary in binaries.items():
            attach = label == "after"
            m = Monitor(binary, work, attach)
            r = {"idle": memory(m.proc.pid)}
            write_lines(m.out_w, 20)
            time.sleep(0.5)
            r["logged"] = memory(m.proc.pid)
            if attach:
                clients = [m.client() for _ in range(16)]
                stop = threading.Event()
                threads = drain(clients, stop)
                write_lines(m.out_w, 20)
                time.sleep(0.5)
                r["attached"] = memory(m.proc.pid)
                stop.set()
                for t in threads:
                    t.join()
                for s in clients:
                    s.close()
                stalled, flooder = m.client(), m.client()
                flooder.setblocking(False)
                frame = struct.pack(">BI", 0, 32768) + b"a" * 32768
                sent = 0
                try:
                    for _ in range(512):
                        sent += flooder.send(frame)
                except BlockingIOError:
                    pass
                write_lines(m.out_w, 20)
                time.sleep(0.5)
                r["hostile"] = memory(m.proc.pid)
                r["hostile_input_taken_kib"] = sent // 1024
                stalled.close()
                flooder.close()
            m.stop()
            results[label] = r
    finally:
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "monitor-memory.json"), "w") as f:
        json.dump(results, f, indent=2)
    print("| state | before: RSS / PSS / private KiB | after: RSS / PSS / private KiB |")
    print("|---|---|---|")
    for state in ["idle", "logged", "attached", "hostile"]:
        cells = []
        for label in ["before", "after"]:
            v = results[label].get(state)
            cells.append("%d / %d / %d" % (v["rss"], v["pss"], v["private"]) if v else "n/a (no attach)")
        print("| %s | %s | %s |" % (state, cells[0], cells[1]))
    print("stdin flood: the monitor and socket took %d KiB before the flooder's sends blocked"
          % results["after"]["hostile_input_taken_kib"])


if __name__ == "__main__":
    main()
