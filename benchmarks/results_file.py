"""Writing one benchmark's section of benchmarks/RESULTS.md, leaving the others as they are."""

import os
import platform
import re


def write_section(path, name, body):
    """Replaces the section between `<!-- name:begin -->` and `<!-- name:end -->` in the file at
    `path` with `body` (appending the section if it is new), atomically."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    section = f"{begin}\n{body.strip()}\n{end}"
    text = open(path).read() if os.path.exists(path) else "# Benchmark results\n"
    if begin in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        f.write(text)
    os.replace(temporary, path)


def cpu_cores():
    """`"2 CPU cores (AMD EPYC, x86_64)"`: the core count, the CPU's model name and the
    architecture, for a section's machine line (absolute figures change with the CPU)."""
    model = None
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as cpuinfo:
            names = re.findall(r"model name\s*:\s*(.*)", cpuinfo.read())
        model = names[0].strip() if names else None
    described = ", ".join(filter(None, (model, platform.machine())))
    return f"{os.cpu_count()} CPU cores ({described})"
