"""The plan as files: manifest.toml (and profile.py when the base is not enough)."""
from __future__ import annotations

import json
import re
import shlex
from collections import defaultdict

from ..syscalls.answers import describe_natives
from ..syscalls.profile_source import BANNER, BaseRef, profile_source, variable_name
from .environment import UNUSED
from .plan import RAM_SIZE, WORKDIR, Plan

PROFILE_FILE = "profile.py"


def toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's; UTF-8 kept as it is)."""
    return json.dumps(text, ensure_ascii=False)


def toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else toml_string(key)


def _pairs(table: dict[str, str]) -> list[str]:
    return [f"{toml_key(k)} = {toml_string(v)}" for k, v in sorted(table.items())]


def profile_spec(plan: Plan) -> str:
    return f"{PROFILE_FILE}:{variable_name(plan.name)}" if plan.needs_profile else plan.base


def render_manifest(plan: Plan, runs: list[list[str]]) -> str:
    out = [f"# {plan.name}: {BANNER.format(command='init')} from {len(runs)} native run(s) observed with strace:"]
    out += [f"#   run {i}: {shlex.join(argv)}" for i, argv in enumerate(runs, 1)]
    out += ["# [files] holds what the runs opened or looked at. The shared libraries ld.so loaded at start "
            f"({plan.closure_skipped})",
            "# are not listed: pack adds every listed ELF file's closure itself."]
    if plan.missing and not plan.needs_profile:
        out.append("# Still missing (-ENOSYS and a trace event): no fixed answer keeps what the program does:")
        out += [f"#   {n}: natively {m.count} call(s): {m.why}" for n, m in sorted(plan.missing.items())]
    if plan.dirs:
        out += ["dirs = [  # empty directories the program looked for",
                *[f"    {toml_string(d)}," for d in plan.dirs], "]"]
    out += ["", "[app]", f"name = {toml_string(plan.name)}", f"entry = {toml_string(plan.entry)}",
            f"argv0 = {toml_string(plan.argv0)}  # argv[0] as the runs gave it",
            f"cwd = {toml_string(WORKDIR)}  # the runs' working directory, with their sample inputs",
            f"profile = {toml_string(profile_spec(plan))}"]
    out += ["", "# The native runs' environment less the host's own (getenv is not a system call: what the",
            "# program reads cannot be traced). The native runs had this one, and the variables below that",
            f"# '{UNUSED}'."]
    for name, why in sorted(plan.env.dropped.items()):
        out.append(f"#   left out: {name}: {why}")
    out += ["[app.env]", *_pairs(plan.env.kept)]
    out += ["", "[files]", "# the program", f"{toml_string(plan.entry)} = {toml_string(plan.entry)}"]
    if plan.files:
        out += ["# read or looked at by the program", *_pairs(plan.files)]
    if plan.plugins:
        out += ["# loaded at run time (dlopen): pack adds what each needs", *_pairs(plan.plugins)]
    if plan.listed:
        out += ["# directories the program listed, taken whole", *_pairs(plan.listed)]
    if plan.inputs:
        out += [f"# the runs' sample inputs, from their working directory ({WORKDIR} in the image)",
                *_pairs(plan.inputs)]
    by_reason: dict[str, list[str]] = defaultdict(list)
    for path, why in plan.left_out.items():
        by_reason[why].append(path)
    for why, paths in sorted(by_reason.items()):
        out.append(f"# left out: {why}")
        out += [f"#   {p}" for p in sorted(paths)]
    if plan.symlinks:
        out += ["", "[symlinks]", "# as on the host, on the way to the files above", *_pairs(plan.symlinks)]
    return "\n".join(out) + "\n"


def render_profile(plan: Plan) -> str:
    routes = {prefix: (RAM_SIZE, why) for prefix, why in plan.ram.items()}
    missing = {n: f"natively {m.count} call(s) ({describe_natives(m.answers) or 'none'}): "
                  f"{m.why}" for n, m in plan.missing.items()}
    return profile_source(
        command="init", name=plan.name, var=variable_name(plan.name), base=BaseRef(plan.base),
        doc=f"{plan.name}'s profile: {plan.base}, with RAM disks where the runs wrote and an answer for each "
            "call the base lacks.",
        note=f"{plan.name} as `xax-emu init` saw it run", routes=routes, syscalls=plan.syscalls, missing=missing)
