"""Runner for bench/image-pull.sh: interleaved rounds of several commands, each after its own
untimed preparation, so that the changing load of a shared machine hits every command alike
(hyperfine runs all rounds of one command before the next one).

Usage: image_pull.py SPEC ROUNDS WARMUP OUT.json
SPEC: one command a line, `name<TAB>prepare<TAB>command` (shell text). Round i runs the commands
in order, round i+1 in reverse order, and so on. A failing command stops the run with its output.
OUT.json has hyperfine's shape ({"results": [{"command", "times"}]}) for bench/report.py.
"""
import json
import subprocess
import sys
import time


def run(shell, what):
    done = subprocess.run(["/bin/sh", "-c", shell], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.exit(f"image_pull.py: {what} failed (exit {done.returncode}): {shell}\n{done.stdout.decode(errors='replace')}")


def main():
    spec, rounds, warmup, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    commands = []
    for line in open(spec):
        line = line.rstrip("\n")
        if not line:
            continue
        name, prepare, command = line.split("\t")
        commands.append((name, prepare, command))
    times = {name: [] for name, _, _ in commands}
    for index in range(warmup + rounds):
        order = commands if index % 2 == 0 else list(reversed(commands))
        for name, prepare, command in order:
            run(prepare, f"{name} prepare")
            start = time.perf_counter()
            run(command, name)
            elapsed = time.perf_counter() - start
            if index >= warmup:
                times[name].append(elapsed)
        if index >= warmup:
            done = index - warmup + 1
            row = "  ".join(f"{name} {times[name][-1] * 1000:.0f}" for name, _, _ in commands)
            print(f"round {done}/{rounds} (ms): {row}", flush=True)
    with open(out, "w") as f:
        json.dump({"results": [{"command": name, "times": times[name]} for name, _, _ in commands]}, f)


if __name__ == "__main__":
    main()
