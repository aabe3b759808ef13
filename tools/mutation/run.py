"""`make mutation`: mutmut over the core, the live session, the records' write path, signal quality
and the decoders; prints the score per module and overall, and every surviving mutant.

mutmut 3 runs in a copy of the tree (build/mutation, so a run never writes into the working tree
and `tests/conftest.py` finds the shared fixtures at `../shared` as it does here). It records
which tests call each function and runs only those, fastest first, stopping at the first failure.
A survivor is either killed by a test or listed in tools/mutation/equivalent.md with the reason it
cannot be killed; a listed one is matched by its function and its change, not by its number, so
the list survives edits elsewhere in the file.

    python tools/mutation/run.py                  # the whole measurement from scratch
    python tools/mutation/run.py --again NAME...  # re-test some mutants (globs) of the last run;
                                                  # a changed test selection resets the rest
    python tools/mutation/run.py --report         # print the last run's figures again

Exit status 1 when the score is under --target or a survivor is neither killed nor listed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "build" / "mutation"
EQUIVALENT = Path(__file__).resolve().parent / "equivalent.md"
COPIED = ["exposure", "sensors", "vret", "scenes", "clinician_console", "tests", "tools/mutation"]

# file -> the functions in scope (mutmut's keys), or None for every function of the file
SCOPE: dict[str, list[str] | None] = {
    "exposure/core.py": None,
    "exposure/live.py": None,
    "vret/record_writer.py": None,
    "vret/records.py": [  # the write path only (and the two helpers only it uses)
        "xǁRecordsǁopen_session",
        "xǁRecordsǁappend",
        "xǁRecordsǁappend_effects",
        "xǁRecordsǁclose_session",
        "xǁRecordsǁ_seq",
        "xǁRecordsǁ_header",
    ],
    "sensors/quality.py": None,
    "sensors/cms50.py": None,
    "sensors/nonin.py": None,
    "sensors/text.py": None,
    "sensors/ble_bridge.py": None,
    "sensors/pulsesensor.py": None,
    "sensors/base.py": None,
}

DETECTED = {"killed", "timeout", "caught by type check", "segfault"}
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped"}
STATUS.update({36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout"})
STATUS.update({37: "caught by type check", -11: "segfault", -9: "segfault", 2: "interrupted"})


def module_of(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def in_scope(path: str, key: str) -> bool:
    """Whether mutant `key` ("vret.records.xǁRecordsǁappend__mutmut_3") is measured."""
    functions = SCOPE[path]
    function = key.removeprefix(module_of(path) + ".").rpartition("__mutmut_")[0]
    return functions is None or function in functions


def globs() -> list[str]:
    """The mutant names to run, as the globs `mutmut run` takes."""
    out = []
    for path, functions in SCOPE.items():
        module = module_of(path)
        if functions is None:
            out.append(f"{module}.*")
        else:
            out += [f"{module}.{function}__mutmut_*" for function in functions]
    return out


def copy_tree() -> None:
    """Bring the sources, tests and settings into the work folder (mtimes kept: mutmut
    re-mutates a file only when its source is newer than its mutants)."""
    WORK.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in COPIED:
        target = WORK / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(ROOT / name, target, ignore=ignore, dirs_exist_ok=True)
    shutil.copy2(ROOT / "pyproject.toml", WORK / "pyproject.toml")
    shared = WORK / "shared"  # tests/conftest.py: FIXTURES = <root>/../shared/fixtures
    if not shared.exists() and (ROOT.parent / "shared").exists():
        shared.symlink_to(ROOT.parent / "shared")


def leave_out_failing_tests() -> list[str]:
    """Run the selected tests once on the unmutated copy; leave out (and name) those that fail.

    Other people change tests while a run is prepared: one test broken on the original code would
    stop mutmut's first run, and with it the whole measurement.
    """
    mutmut = tomllib.loads((WORK / "pyproject.toml").read_text())["tool"]["mutmut"]
    selection, options = mutmut["pytest_add_cli_args_test_selection"], mutmut["pytest_add_cli_args"]
    env = {**os.environ, "HYPOTHESIS_PROFILE": "mutation", "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-rfE", *options, *selection]
    done = subprocess.run(command, cwd=WORK, env=env, capture_output=True, text=True)
    failing = sorted(set(re.findall(r"^(?:FAILED|ERROR) (\S+?)(?: - .*)?$", done.stdout, re.M)))
    if done.returncode not in (0, 1) or not failing and done.returncode:
        print(done.stdout[-3000:], done.stderr[-3000:])
        sys.exit(f"The tests do not run on the unmutated code (pytest exit {done.returncode}).")
    extra = [f"--ignore={n}" if "::" not in n else f"--deselect={n}" for n in failing]
    for name in failing:
        print(f"left out, fails on the unmutated code: {name}")
    if extra:
        text = (WORK / "pyproject.toml").read_text()
        head = "pytest_add_cli_args_test_selection = ["
        rows = "".join(f"\n    {json.dumps(arg)}," for arg in extra)
        (WORK / "pyproject.toml").write_text(text.replace(head, head + rows, 1))
    return failing


def run_mutmut(names: list[str], children: int) -> None:
    env = {**os.environ, "HYPOTHESIS_PROFILE": "mutation", "PYTHONDONTWRITEBYTECODE": "1"}
    log = WORK / "mutmut.log"
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(children), *names]
    print(f"mutmut run in {WORK.relative_to(ROOT)} ({children} workers); its output: {log}")
    with log.open("w") as out:
        code = subprocess.call(command, cwd=WORK, env=env, stdout=out, stderr=subprocess.STDOUT)
    if code != 0:
        text = log.read_text(errors="replace")
        print(text[-3000:])
        sys.exit(f"mutmut run failed with exit status {code}: see {log}")


@dataclass
class Mutant:
    path: str
    key: str
    status: str

    @property
    def function(self) -> str:
        return self.key.rpartition("__mutmut_")[0]


def load_results() -> list[Mutant]:
    mutants = []
    for path in SCOPE:
        meta = WORK / "mutants" / (path + ".meta")
        if not meta.exists():
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        for key, code in codes.items():
            if in_scope(path, key):
                status = "not checked" if code is None else STATUS.get(code, "suspicious")
                mutants.append(Mutant(path, key, status))
    return mutants


def changed_lines(diff: str) -> str:
    """A mutant's change as its removed and added lines, whitespace squeezed."""
    lines = [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return " / ".join(re.sub(r"\s+", " ", line).strip() for line in lines)


def diffs(mutants: list[Mutant]) -> dict[str, str]:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    here = os.getcwd()
    os.chdir(WORK)
    try:
        return {m.key: get_diff_for_mutant(m.key, path=m.path) for m in mutants}
    finally:
        os.chdir(here)


def load_equivalent() -> dict[tuple[str, str], str]:
    """(function, change) -> reason, from the table rows of equivalent.md."""
    listed = {}
    for line in EQUIVALENT.read_text().splitlines():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        name, change, reason = (cells[0].strip("`"), cells[1], cells[2])
        change = change.strip("`").replace("\\|", "|")
        listed[(name.rpartition("__mutmut_")[0] or name, change)] = reason
    return listed


def report(target: float, elapsed: float | None) -> int:
    mutants = load_results()
    if not mutants:
        sys.exit(f"No results in {WORK / 'mutants'}: run `make mutation` first.")
    escaped = [m for m in mutants if m.status not in DETECTED]
    diff_by_key = diffs(escaped)
    listed = load_equivalent()
    equivalent = {
        m.key
        for m in escaped
        if (m.function, changed_lines(diff_by_key[m.key]).replace("`", "")) in listed
    }
    print()
    print(f"{'module':<24} {'mutants':>7} {'killed':>7} {'equiv':>6} {'left':>5} {'score':>7}")
    total = Counter()
    for path in SCOPE:
        mine = [m for m in mutants if m.path == path]
        killed = sum(m.status in DETECTED for m in mine)
        equiv = sum(m.key in equivalent for m in mine)
        left = len(mine) - killed - equiv
        total.update(mutants=len(mine), killed=killed, equiv=equiv, left=left)
        score = 100 * killed / len(mine) if mine else 100.0
        print(f"{path:<24} {len(mine):>7} {killed:>7} {equiv:>6} {left:>5} {score:>6.1f}%")
    score = 100 * total["killed"] / total["mutants"]
    adjusted = 100 * (total["killed"] + total["equiv"]) / total["mutants"]
    print(
        f"{'overall':<24} {total['mutants']:>7} {total['killed']:>7} {total['equiv']:>6} "
        f"{total['left']:>5} {score:>6.1f}%"
    )
    print(
        f"\nscore: {score:.1f}% of mutants killed ({adjusted:.1f}% counting the "
        f"{total['equiv']} listed as equivalent in {EQUIVALENT.relative_to(ROOT)})"
    )
    statuses = Counter(m.status for m in mutants)
    print("by status: " + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())))
    if elapsed is not None:
        print(f"wall time: {elapsed / 60:.1f} min")
    left = [m for m in escaped if m.key not in equivalent]
    if left:
        print(f"\n{len(left)} surviving mutants (kill them with a test, or list them):")
        for m in sorted(left, key=lambda m: m.key):
            print(f"\n{m.key}  [{m.status}]  {m.path}")
            change = changed_lines(diff_by_key[m.key]).replace("|", "\\|")
            print(f"  | `{m.key}` | `{change}` | reason |")
            print("\n".join("    " + line for line in diff_by_key[m.key].splitlines()[2:]))
    return 0 if score >= target and not left else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--again", nargs="+", metavar="NAME", help="re-test these mutants")
    parser.add_argument("--report", action="store_true", help="only print the last results")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--target", type=float, default=85.0, help="lowest passing score, %%")
    args = parser.parse_args()
    start = time.monotonic()
    if args.again:
        copy_tree()
        leave_out_failing_tests()
        run_mutmut(args.again, args.children)
    elif not args.report:
        shutil.rmtree(WORK, ignore_errors=True)
        copy_tree()
        leave_out_failing_tests()
        run_mutmut(globs(), args.children)
    elapsed = None if args.report else time.monotonic() - start
    sys.exit(report(args.target, elapsed))


if __name__ == "__main__":
    main()
