#!/usr/bin/env python3
"""Checks the structural rules of Vesta's source tree (the layering in docs/architecture.md).

    tools/check_layout.py [--src DIR]

Reads src/ only (no build needed) and prints one line per violation, then a summary line:

    layout: 5 rules checked, 0 violations (186 files in src/)

Exits 0 when there are no violations, 1 otherwise (2 on a usage error). The rules:

  size        No source file (.cc/.h) in src/ is over 900 lines.
  search      Nothing in src/search/ includes a store/ header or spells SQL in a string literal
              (SELECT, INSERT, FROM, WHERE, json_each); SQL mentioned in comments is fine.
  rest        No module includes rest/ headers except rest itself, http and cli. A module is a
              top folder of src/; src/fhir/<sub> counts as a module of its own.
  cycles      No two files in different folders depend on each other: for units a and b (a unit is
              a.h with a.cc) in different folders, not (a.h or a.cc includes b.h) while (b.h or
              b.cc includes a.h).
  sqlite3     At most one folder in src/ includes sqlite3.h.

Standard library only, so that it runs wherever the tests do.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

MAX_LINES = 900
SOURCE_SUFFIXES = (".cc", ".h")
# Modules allowed to include rest/ headers besides rest itself.
REST_CLIENTS = ("http", "cli")
# SQL in a string literal: case-sensitive, since SQL is written in capitals in this code and an
# English message may well say "select" or "from".
SQL_PATTERNS = ("SELECT ", "INSERT ", " FROM ", " WHERE ", "json_each")

RAW_STRING_RE = re.compile(r'(?:u8|u|U|L)?R"([^ ()\\\t\n]{0,16})\(')
INCLUDE_DIRECTIVE_RE = re.compile(r'#[ \t]*include[ \t]*(?:<[^>\n]*>|"[^"\n]*")')
INCLUDE_RE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^>"]+)[>"]', re.MULTILINE)


def source_files(src: Path) -> list[Path]:
    files = []
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(SOURCE_SUFFIXES):
                files.append(Path(dirpath, name))
    return files


def strip_comments_and_literals(text: str) -> tuple[str, list[tuple[int, str]]]:
    """Returns the text with comments blanked out (newlines kept, so line numbers hold) and the
    string literals found in code, as (line, contents), adjacent literals joined ("a" "b" is
    "ab", as the compiler sees it). Handles escapes, character literals, encoding prefixes and
    raw strings (R"delim(...)delim")."""
    out = []
    literals: list[tuple[int, str]] = []
    i, n, line = 0, len(text), 1
    # True while only whitespace and comments follow the last string literal.
    after_literal = False

    while i < n:
        c = text[i]
        # An #include line is kept as it is: its "path" is not a string literal.
        if c == "#" and text[text.rfind("\n", 0, i) + 1:i].strip() == "":
            m = INCLUDE_DIRECTIVE_RE.match(text, i)
            if m:
                out.append(m.group(0))
                i = m.end()
                after_literal = False
                continue
        if c == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
            continue
        if c == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            chunk = text[i:end]
            out.append(re.sub(r"[^\n]", " ", chunk))
            line += chunk.count("\n")
            i = end
            continue
        # A raw string: R"delim( ... )delim", possibly after an encoding prefix (u8R, LR, ...).
        raw = RAW_STRING_RE.match(text, i) if c in "uULR" else None
        if raw and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            start = raw.end()
            close = text.find(")" + raw.group(1) + '"', start)
            close = n if close < 0 else close
            body = text[start:close]
            end = min(n, close + len(raw.group(1)) + 2)
            if after_literal:
                literals[-1] = (literals[-1][0], literals[-1][1] + body)
            else:
                literals.append((line, body))
            out.append(re.sub(r"[^\n]", " ", text[i:end]))
            line += text[i:end].count("\n")
            i = end
            after_literal = True
            continue
        if c == '"' or c == "'":
            j = i + 1
            chars = []
            while j < n and text[j] != c and text[j] != "\n":
                if text[j] == "\\" and j + 1 < n:
                    chars.append(text[j:j + 2])
                    j += 2
                    continue
                chars.append(text[j])
                j += 1
            end = min(n, j + 1)
            if c == '"':
                body = "".join(chars)
                if after_literal:
                    literals[-1] = (literals[-1][0], literals[-1][1] + body)
                else:
                    literals.append((line, body))
                after_literal = True
            else:
                after_literal = False  # a character literal
            out.append(" " * (end - i))
            i = end
            continue
        if c == "\n":
            line += 1
        elif not c.isspace():
            after_literal = False
        out.append(c)
        i += 1
    return "".join(out), literals


def includes(text: str) -> list[tuple[int, str, str]]:
    """The #include lines of comment-free text as (line, '<' or '"', path)."""
    found = []
    for m in INCLUDE_RE.finditer(text):
        found.append((text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2)))
    return found


def module_of(rel: Path) -> str:
    """src/fhir/<sub>/x.cc is module fhir/<sub>; src/<top>/... is <top>; src/x.cc is ''."""
    parts = rel.parts[:-1]
    if not parts:
        return ""
    if parts[0] == "fhir" and len(parts) >= 2:
        return "fhir/" + parts[1]
    return parts[0]


class Tree:
    def __init__(self, src: Path):
        self.src = src
        self.files: dict[Path, str] = {}  # relative path → text
        for path in source_files(src):
            self.files[path.relative_to(src)] = path.read_text(encoding="utf-8", errors="replace")
        self._code: dict[Path, tuple[str, list[tuple[int, str]]]] = {}
        self._includes: dict[Path, list[tuple[int, str, str]]] = {}

    def code(self, rel: Path) -> tuple[str, list[tuple[int, str]]]:
        if rel not in self._code:
            self._code[rel] = strip_comments_and_literals(self.files[rel])
        return self._code[rel]

    def includes(self, rel: Path) -> list[tuple[int, str, str]]:
        if rel not in self._includes:
            self._includes[rel] = self._find_includes(rel)
        return self._includes[rel]

    def _find_includes(self, rel: Path) -> list[tuple[int, str, str]]:
        code, _ = self.code(rel)  # without comments, so a commented-out #include does not count
        return includes(code)


def where(rel: Path, line: int | None = None) -> str:
    text = "src/" + rel.as_posix()
    return f"{text}:{line}" if line else text


def check_size(tree: Tree) -> list[str]:
    problems = []
    for rel, text in tree.files.items():
        lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        if lines > MAX_LINES:
            problems.append(f"{where(rel)}: {lines} lines, over the {MAX_LINES}-line limit; "
                            "split it by theme")
    return problems


def check_search(tree: Tree) -> list[str]:
    problems = []
    for rel in tree.files:
        if rel.parts[0] != "search":
            continue
        for line, kind, path in tree.includes(rel):
            if kind == '"' and path.startswith("store/"):
                problems.append(f"{where(rel, line)}: search includes the store header "
                                f'"{path}"; search must not know a backend')
        _, literals = tree.code(rel)
        for line, literal in literals:
            for pattern in SQL_PATTERNS:
                if pattern in literal:
                    shown = literal if len(literal) <= 60 else literal[:57] + "..."
                    problems.append(f"{where(rel, line)}: SQL ({pattern.strip()!r}) in a string "
                                    f'literal in search: "{shown}"; SQL belongs to the backend')
                    break
    return problems


def check_rest(tree: Tree) -> list[str]:
    problems = []
    for rel in tree.files:
        module = module_of(rel)
        if module == "rest" or module in REST_CLIENTS:
            continue
        for line, kind, path in tree.includes(rel):
            if kind == '"' and path.startswith("rest/"):
                problems.append(f"{where(rel, line)}: module '{module or 'src'}' includes "
                                f'"{path}"; only {", ".join(REST_CLIENTS)} may include rest/')
    return problems


def check_cycles(tree: Tree) -> list[str]:
    # A unit is a path without its suffix: store/sqlite/open stands for open.h and open.cc.
    def unit(rel: Path) -> str:
        return rel.with_suffix("").as_posix()

    headers = {unit(rel) for rel in tree.files if rel.suffix == ".h"}
    # deps[a][b] = (file, line) of the first include of b.h from a.h or a.cc.
    deps: dict[str, dict[str, tuple[Path, int]]] = {}
    for rel in sorted(tree.files):
        a = unit(rel)
        for line, kind, path in tree.includes(rel):
            if kind != '"' or not path.endswith(".h"):
                continue
            b = path[:-2]
            if b not in headers:  # "x.h" beside the including file
                b = (rel.parent / path).with_suffix("").as_posix()
            if b == a or b not in headers:
                continue
            deps.setdefault(a, {}).setdefault(b, (rel, line))
    problems = []
    for a in sorted(deps):
        for b in sorted(deps[a]):
            if a >= b or a not in deps.get(b, {}):
                continue
            fa, la = deps[a][b]
            fb, lb = deps[b][a]
            if os.path.dirname(a) == os.path.dirname(b):
                # Allowed (one folder is one piece of the design), but worth knowing about.
                NOTES.append(f"{where(fa, la)}: {a} and {b} include each other's headers "
                             "(same folder, allowed)")
                continue
            problems.append(f"{where(fa, la)}: cycle between folders: {a} includes {b}.h and "
                            f"{where(fb, lb)} includes {a}.h back")
    return problems


def check_sqlite3(tree: Tree) -> list[str]:
    folders: dict[str, list[str]] = {}
    for rel in tree.files:
        for line, _, path in tree.includes(rel):
            if path == "sqlite3.h":
                folders.setdefault(rel.parent.as_posix(), []).append(where(rel, line))
    if len(folders) <= 1:
        return []
    listing = "; ".join(f"src/{folder} ({', '.join(sites)})" for folder, sites in
                        sorted(folders.items()))
    return [f"sqlite3.h is included from {len(folders)} folders, at most one (src/sqlite) may: "
            f"{listing}"]


# Findings that are not violations, printed after them.
NOTES: list[str] = []

RULES = (
    ("size", check_size),
    ("search", check_search),
    ("rest", check_rest),
    ("cycles", check_cycles),
    ("sqlite3", check_sqlite3),
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parent.parent / "src",
                        help="the source folder to check (default: src/ next to tools/)")
    args = parser.parse_args(argv)
    if not args.src.is_dir():
        print(f"layout: {args.src} is not a folder", file=sys.stderr)
        return 2
    tree = Tree(args.src)
    if not tree.files:
        print(f"layout: no .cc or .h files under {args.src}", file=sys.stderr)
        return 2
    violations = 0
    NOTES.clear()
    for name, check in RULES:
        for problem in check(tree):
            print(f"layout [{name}]: {problem}")
            violations += 1
    for note in NOTES:
        print(f"layout note: {note}")
    print(f"layout: {len(RULES)} rules checked, {violations} violation"
          f"{'' if violations == 1 else 's'} ({len(tree.files)} files in {args.src.name}/)")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
