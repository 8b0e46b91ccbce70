"""Static facts of cell code."""

from __future__ import annotations

import ast

from provkernel.capture.analysis import FactsCache, analyze
from provkernel.capture.shallow import shallow_facts


def test_definitions_free_names_and_order():
    facts = analyze("y = x + 1\nx = 2\nz = x + y")
    assert facts.defined == {"x", "y", "z"}
    assert facts.free == ("x",)  # read before this cell defines it


def test_functions_classes_and_their_globals():
    facts = analyze(
        "def f(a, b=default):\n    return a + model.predict(b) + later\nclass C(Base):\n    k = 1\nlater = 3"
    )
    assert facts.functions == ("f",) and facts.classes == ("C",)
    # defining f evaluates its default, not its body; the class body runs at once
    assert set(facts.free) == {"default", "Base"}
    body = facts.scope(1, "f")
    assert set(body.reads) == {"model", "later"} and body.methods == (("model", "predict"),)


def test_function_bodies_are_facts_for_their_callers():
    facts = analyze(
        "seen = set()\n"
        "@register\n"
        "def mark(x, n=limit):\n"
        "    seen.add(x)\n"
        "    counts[x] = helper(x)\n"
        "    return inner_call(x)\n"
        "class Model:\n"
        "    scale = factor * 2\n"
        "    def fit(self, X):\n"
        "        self.prepare(X)\n"
        "        history.append(lr)\n"
        "    def prepare(self, X):\n"
        "        return normalise(X)\n"
        "ys = sorted(xs, key=lambda v: v - offset)\n"
        "f = lambda q: q * rate\n"
        "model = Model()\n"
        "model.fit(data)"
    )
    assert set(facts.free) == {"register", "limit", "factor", "xs", "offset", "data"}
    mark = facts.scope(2, "mark")  # a decorated function's code starts at its first decorator
    assert set(mark.reads) == {"seen", "counts", "helper", "inner_call"}
    assert set(mark.mutates) == {"seen", "counts"} and set(mark.calls) == {"helper", "inner_call"}
    fit, prepare = facts.scope(9, "fit"), facts.scope(12, "prepare")
    assert fit.self_calls == ("prepare",) and set(fit.reads) == {"history", "lr"}
    assert fit.mutates == ("history",) and set(prepare.calls) == {"normalise"}
    assert facts.scope(15, "<lambda>").reads == ("rate",)
    assert ("model", "fit") in facts.methods and "Model" in facts.calls


def test_closures_are_not_globals():
    facts = analyze("def outer():\n    z = 1\n    def inner():\n        return z + g\n    return inner")
    assert facts.scope(3, "inner").reads == ("g",)


def test_comprehension_variables_are_local():
    facts = analyze("squares = [i * i for i in range(n) if i % k]")
    assert set(facts.free) == {"n", "k"}


def test_imports_with_aliases_and_star():
    facts = analyze(
        "import numpy as np\nimport os.path\nfrom sklearn.svm import SVC as S\nfrom math import *"
    )
    assert [(i.module, i.name, i.alias) for i in facts.imports] == [
        ("numpy", None, "np"),
        ("os", None, "os"),
        ("sklearn.svm", "SVC", "S"),
    ]
    assert facts.star_imports == ("math",)
    assert facts.imports[2].package == "sklearn"


def test_literal_parameters():
    facts = analyze(
        "a = 1\nb = -0.5\nc = 'x'\nd = [1, 2]\ne = {'k': None}\nf = float('nan')\ng = compute()\n"
        "h: int = 4\na = a\ni = 1\ni: int = compute()"
    )
    assert dict(facts.parameters) == {
        "b": "-0.5",
        "c": "'x'",
        "d": "[1, 2]",
        "e": "{'k': None}",
        "f": "float('nan')",
        "h": "4",
    }


def test_an_annotated_assignment_is_an_assignment():
    facts = analyze("f: object = lambda: rate\ng = lambda: rate")
    assert "rate" not in facts.free  # a lambda bound to a name reads nothing until it is called
    assert {s.name for s in facts.scopes} == {"<lambda>"}


def test_mutations_are_updates_of_the_base_name():
    facts = analyze(
        "df.dropna(inplace=True)\nlst.append(1)\nobj.attr = 2\ndf['c'] = 3\ncount += 1\n"
        "del df['a']\nout = df.drop(columns=['b'], inplace=True)\ndf.to_csv('x.csv')\nmodel.fit(X, y)"
    )
    updates = [(u.name, u.how) for u in facts.updates]
    assert updates == [
        ("df", "dropna"),
        ("lst", "append"),
        ("obj", "setattr"),
        ("df", "setitem"),
        ("count", "augassign"),
        ("df", "del[]"),
        ("df", "drop"),
        ("model", "fit"),
    ]
    assert [u.consumes for u in facts.updates][:2] == [True, False]


def test_deletions_and_environment_reads():
    facts = analyze("token = os.environ['T']\nport = os.getenv('P')\nv = 1\ndel v\ndel w")
    assert facts.from_environ == {"token", "port"}
    assert facts.deleted == {"v", "w"}
    assert "v" not in facts.defined


def test_syntax_errors_give_empty_facts_and_the_cache_reuses_results():
    assert analyze("def (:").syntax_error
    cache = FactsCache(limit=2)
    first, new = cache.get("a = 1", "h1")
    again, new_again = cache.get("a = 1", "h1")
    assert new and not new_again and first is again
    cache.get("b = 1", "h2")
    cache.get("c = 1", "h3")
    assert cache.get("a = 1", "h1")[1]  # evicted beyond the limit, computed again


def test_facts_round_trip_through_json():
    facts = analyze("import pandas as pd\ndf = pd.read_csv(p)\ndf.dropna(inplace=True)\nalpha = 0.1")
    from provkernel.capture.analysis import CodeFacts

    assert CodeFacts.from_json(facts.code_hash, facts.to_json()) == facts


def test_the_shallow_scan_records_imports_as_the_full_analysis_does():
    code = "import os.path\nimport numpy as np\nfrom . import sibling\nfrom .pkg import y as z\nfrom sklearn import svm"
    full = analyze(code)
    shallow = shallow_facts(code, full.code_hash, ast.parse(code))
    assert shallow.imports == full.imports
    assert [i.module for i in full.imports] == ["os", "numpy", ".", ".pkg", "sklearn"]


def test_comprehensions_are_visited_like_the_code_around_them():
    facts = analyze("p = [net(i) for i in xs if keep(i)]")
    assert set(facts.calls) == {"net", "keep"} and facts.free == ("xs", "keep", "net")  # evaluation order
    facts = analyze("q = [(lambda k: k + i)(i) for i in x]\nr = [[j for j in row] for row in grid]")
    assert set(facts.free) == {"x", "grid"}  # neither the lambda's k nor the comprehensions' own names
    facts = analyze(
        "[df.drop(columns=[c], inplace=True) for c in cols]\n[f.dropna(inplace=True) for f in frames]\n"
        "{k: g(v) for k, v in d.items()}"
    )
    assert [u.name for u in facts.updates] == ["df"] and "g" in facts.calls
    facts = analyze("def total():\n    return sum(price(i) for i in items)")
    scope = facts.scopes[0]
    assert scope.calls == ("price",) and set(scope.reads) == {"items", "price"}
    facts = analyze("vals = [os.environ[k] for k in keys]\nn = [y := g(x) for x in xs]")
    assert "vals" in facts.from_environ and {"y", "n"} <= facts.defined
