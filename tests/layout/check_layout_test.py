#!/usr/bin/env python3
"""Tests of tools/check_layout.py on small made-up source trees: each rule fires on a violation,
stays quiet on the look-alikes it must accept (SQL in a comment, a cycle inside one folder), and
the exit code and summary line say how many were found."""

import importlib.util
import io
import sys
import tempfile
import unittest
from contextlib import redirect_stdout
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "tools" / "check_layout.py"
spec = importlib.util.spec_from_file_location("check_layout", TOOL)
check_layout = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_layout)


class CheckLayoutTest(unittest.TestCase):
    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.src = Path(self._dir.name, "src")
        self.src.mkdir()
        self.write("base/status.h", "#pragma once\n")

    def tearDown(self):
        self._dir.cleanup()

    def write(self, rel, text):
        path = self.src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def run_check(self):
        out = io.StringIO()
        with redirect_stdout(out):
            rc = check_layout.main(["--src", str(self.src)])
        lines = out.getvalue().splitlines()
        return rc, [l for l in lines if l.startswith("layout [")], lines[-1]

    def test_clean_tree_passes(self):
        self.write("json/json.h", '#pragma once\n#include "base/status.h"\n')
        rc, problems, summary = self.run_check()
        self.assertEqual(rc, 0)
        self.assertEqual(problems, [])
        self.assertRegex(summary, r"^layout: 5 rules checked, 0 violations \(\d+ files in src/\)$")

    def test_long_file(self):
        self.write("generate/big.cc", "int x;\n" * 901)
        self.write("generate/ok.cc", "int x;\n" * 900)
        rc, problems, summary = self.run_check()
        self.assertEqual(rc, 1)
        self.assertEqual(len(problems), 1)
        self.assertIn("src/generate/big.cc: 901 lines", problems[0])
        self.assertRegex(summary, r"^layout: 5 rules checked, 1 violation \(")

    def test_search_includes_store(self):
        self.write("store/store.h", "#pragma once\n")
        self.write("search/plan.cc", '#include "store/store.h"\n// #include "store/x.h"\n'
                   '/* #include "store/y.h" */\n#if 1\n  #  include "store/store.h"\n#endif\n')
        rc, problems, _ = self.run_check()
        self.assertEqual(rc, 1)
        self.assertEqual(len(problems), 2)
        self.assertIn("src/search/plan.cc:1", problems[0])
        self.assertIn("src/search/plan.cc:5", problems[1])

    def test_search_spells_sql(self):
        self.write("search/plan.cc", '\n'.join([
            '// SELECT id FROM resources: prose in a comment is fine',
            '/* INSERT INTO x */',
            'const char* a = "the value to select from";',
            'const char* b = "SELECT id"',
            '                " FROM t";',
            'const char* c = R"sql(x IN (SELECT value FROM json_each(?)))sql";',
            "char d = '\"';",
            'const char* e = "a \\" SELECT b";',
        ]) + "\n")
        rc, problems, _ = self.run_check()
        self.assertEqual(rc, 1)
        self.assertEqual([p.split(": ")[1] for p in problems],
                         ["src/search/plan.cc:4", "src/search/plan.cc:6", "src/search/plan.cc:8"])

    def test_rest_includes(self):
        self.write("rest/api.h", "#pragma once\n")
        self.write("rest/read.cc", '#include "rest/api.h"\n')
        self.write("cli/serve_command.cc", '#include "rest/api.h"\n')
        self.write("http/server.cc", '#include "rest/api.h"\n')
        self.write("icd10/migrate.cc", '#include "rest/api.h"\n')
        self.write("fhir/resource/resource_json.cc", '#include "rest/api.h"\n')
        rc, problems, _ = self.run_check()
        self.assertEqual(rc, 1)
        self.assertEqual(len(problems), 2)
        self.assertIn("module 'fhir/resource'", problems[0])
        self.assertIn("module 'icd10'", problems[1])

    def test_cycle_between_folders(self):
        self.write("store/sqlite/sqlite_store.h", "#pragma once\n")
        self.write("store/sqlite/sqlite_store.cc",
                   '#include "store/sqlite/sqlite_store.h"\n#include "store/index/search_index.h"\n')
        self.write("store/index/search_index.h", "#pragma once\n")
        self.write("store/index/search_index.cc",
                   '#include "store/index/search_index.h"\n#include "store/sqlite/sqlite_store.h"\n')
        # The same shape inside one folder is allowed.
        self.write("rest/a.h", '#pragma once\n')
        self.write("rest/a.cc", '#include "rest/b.h"\n')
        self.write("rest/b.h", '#pragma once\n')
        self.write("rest/b.cc", '#include "rest/a.h"\n')
        rc, problems, _ = self.run_check()
        self.assertEqual(rc, 1)
        self.assertEqual(len(problems), 1)
        self.assertIn("store/index/search_index", problems[0])
        self.assertIn("store/sqlite/sqlite_store", problems[0])

    def test_sqlite3_in_two_folders(self):
        self.write("sqlite/connection.cc", "#include <sqlite3.h>\n")
        rc, _, _ = self.run_check()
        self.assertEqual(rc, 0)
        self.write("terminology/db.cc", "#include <sqlite3.h>\n")
        self.write("terminology/db2.cc", "// #include <sqlite3.h> in prose\n")
        rc, problems, _ = self.run_check()
        self.assertEqual(rc, 1)
        self.assertEqual(len(problems), 1)
        self.assertIn("2 folders", problems[0])
        self.assertIn("src/terminology (src/terminology/db.cc:1)", problems[0])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1] + sys.argv[1:], verbosity=1)
