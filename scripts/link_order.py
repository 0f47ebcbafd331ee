"""Writes lld's --symbol-ordering-file for the release binary from a perf profile of the agent.

Usage: perf script -i PERF_DATA --no-demangle -F ip,sym,dso | python3 scripts/link_order.py LINK_MAP > scripts/link-order.txt

Why: the kernel maps a file-backed page fault's neighbours too (fault-around, 64 KiB windows), so
the agent's resident code is every 64 KiB window that holds a function it ran; the functions of
pod start and stop lie scattered over the 42 MiB of code, and each brings its window in. Placing
the functions the profile saw together makes them share windows.

What it writes: every function of the swiftlet binary that appears in a sample, as a leaf or as
a caller in the call chain, in the order first seen (start-up first, then the pod paths).
Functions whose input section is small come first; those in a large section (a C library
compiled without function sections, or the prebuilt Swift standard library's one .text of 1.5
MiB) come after them: lld moves whole input sections, so one of those would spread the small
ones apart.
LINK_MAP is lld's -Map output of the same binary (scripts/build-release.sh writes it when
LINK_MAP is set), read for the size of each function's input section.
"""
import re
import sys

# An input section larger than this goes after the small ones (the fault-around window).
LARGE_SECTION = 64 * 1024


def section_sizes(map_path):
    """Symbol -> size of the input section of .text that holds it, from an lld map.

    lld's map has columns VMA, LMA, Size, Align, then the output section (no indent), an input
    section (8 spaces) or a symbol (16 spaces)."""
    sizes = {}
    output = None
    current = 0
    line_format = re.compile(r"^\s*[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+ (\s*)(.*)$")
    with open(map_path) as lines:
        for line in lines:
            match = line_format.match(line)
            if not match:
                continue
            size, indent, name = int(match.group(1), 16), len(match.group(2)), match.group(3).strip()
            if indent == 0:
                output = name
            elif indent <= 8:
                current = size
            elif output == ".text":
                sizes.setdefault(name, current)
    return sizes


def profiled_functions(lines):
    """The binary's functions in the order perf script first shows them."""
    seen = set()
    order = []
    frame = re.compile(r"^\s+[0-9a-f]+ (.*) \((.*)\)$")
    for line in lines:
        match = frame.match(line.rstrip("\n"))
        if not match:
            continue
        symbol, dso = match.groups()
        if not dso.endswith("/swiftlet"):
            continue
        symbol = re.sub(r"\+0x[0-9a-f]+$", "", symbol)
        if symbol == "[unknown]" or symbol in seen:
            continue
        seen.add(symbol)
        order.append(symbol)
    return order


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[2])
    sizes = section_sizes(sys.argv[1])
    functions = profiled_functions(sys.stdin)
    if not functions:
        sys.exit("link_order.py: no function of a swiftlet binary in the profile (perf script output on stdin?)")
    small = [f for f in functions if sizes.get(f, 0) <= LARGE_SECTION]
    large = [f for f in functions if sizes.get(f, 0) > LARGE_SECTION]
    print("# lld --symbol-ordering-file for the release binary, written by scripts/link-order.sh")
    print(f"# from a profile of the agent: {len(small)} functions in small sections, then {len(large)} in large ones.")
    for symbol in small + large:
        print(symbol)


if __name__ == "__main__":
    main()
