"""The documentation cannot drift from the code.

- Every role's meta/argument_specs.yml is complete: each option has a type and a description, every
  variable of defaults/main.yml is an option, and a literal default there is the option's documented default.
- Every role's README.md documents every option of its argument specs (no more, no fewer) with the right
  type, choices and the default of defaults/main.yml, and names the facts the role sets.
- The collection README's troubleshooting table has a row for every reason code that the reachability check
  (plugins/module_utils/tls_probe.py, and mtls_info's usage_error) can emit, at the stages it emits it,
  and no row for a reason that no longer exists.
- Every role variable the collection README mentions exists.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES_DIR = ROOT / "roles"
ROLES = sorted(p.name for p in ROLES_DIR.iterdir() if (p / "meta" / "argument_specs.yml").is_file())
PROBE = ROOT / "plugins" / "module_utils" / "tls_probe.py"
INFO = ROOT / "plugins" / "module_utils" / "info.py"
README = ROOT / "README.md"


# --- reading the sources ---------------------------------------------------------------------------------


def argument_specs(role):
    return yaml.safe_load((ROLES_DIR / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]


def options(role):
    """Every option of every entry point (entry points may share options through a YAML anchor)."""
    merged = {}
    for entry in argument_specs(role).values():
        for name, spec in (entry.get("options") or {}).items():
            merged.setdefault(name, spec)
    return merged


def defaults(role):
    path = ROLES_DIR / role / "defaults" / "main.yml"
    return (yaml.safe_load(path.read_text()) or {}) if path.is_file() else {}


def is_template(value):
    return isinstance(value, str) and "{{" in value


def role_files(role):
    for sub in ("tasks", "handlers", "templates", "vars"):
        yield from sorted((ROLES_DIR / role / sub).glob("*")) if (ROLES_DIR / role / sub).is_dir() else ()


def produced_variables(role):
    """Names the role itself sets: registered results, set_fact keys and task vars."""
    names = set()

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if isinstance(node.get("register"), str):
                names.add(node["register"])
            for key in ("ansible.builtin.set_fact", "set_fact", "vars"):
                if isinstance(node.get(key), dict):
                    names.update(node[key])
            for value in node.values():
                walk(value)

    for path in role_files(role):
        if path.suffix in (".yml", ".yaml"):
            walk(yaml.safe_load(path.read_text()))
    return names


def type_text(spec):
    kind = spec.get("type", "str")
    return "list of %s" % spec.get("elements", "str") if kind == "list" else kind


# --- reading Markdown --------------------------------------------------------------------------------


def split_row(line):
    """Cells of a Markdown table row; a pipe escaped as \\| (as inside code spans) stays in its cell."""
    text = line.strip()
    text = text[1:] if text.startswith("|") else text
    text = text[:-1] if text.endswith("|") and not text.endswith("\\|") else text
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", text)]


def table_rows(text):
    """Rows of every Markdown table in text whose first cell is a single code span: {name: cells}."""
    rows = {}
    for line in text.splitlines():
        if not line.lstrip().startswith("|"):
            continue
        cells = split_row(line)
        match = re.fullmatch(r"`([^`]+)`", cells[0])
        if match:
            rows.setdefault(match.group(1), cells)
    return rows


def yaml_blocks(text):
    """Top-level keys of every ```yaml block that is a mapping."""
    found = {}
    for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL):
        data = yaml.safe_load(block)
        if isinstance(data, dict):
            found.update(data)
    return found


def section(text, heading):
    """The text under a Markdown heading (any level) up to the next heading of the same or a higher level."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)  # "# comments" in code are no headings
    match = re.search(r"^(#+) %s\s*$" % re.escape(heading), text, re.MULTILINE)
    assert match, "no heading %r" % heading
    level = len(match.group(1))
    rest = text[match.end():]
    end = re.search(r"^#{1,%d} " % level, rest, re.MULTILINE)
    return rest[:end.start()] if end else rest


# --- argument specs ----------------------------------------------------------------------------------


def test_every_role_is_checked():
    assert set(ROLES) == {p.name for p in ROLES_DIR.iterdir() if p.is_dir()}, "a role without meta/argument_specs.yml"
    assert len(ROLES) >= 5


@pytest.mark.parametrize("role", ROLES)
def test_argument_specs_are_complete(role):
    specs = argument_specs(role)
    assert "main" in specs, "%s has no main entry point" % role
    problems = []
    for entry_name, entry in specs.items():
        if not entry.get("short_description"):
            problems.append("entry point %s has no short_description" % entry_name)
        for name, spec in (entry.get("options") or {}).items():
            if not name.startswith(role + "_"):
                problems.append("%s: not prefixed with the role name" % name)
            if "type" not in spec:
                problems.append("%s: no type" % name)
            if spec.get("type") == "list" and "elements" not in spec:
                problems.append("%s: list without elements" % name)
            if not spec.get("description"):
                problems.append("%s: no description" % name)
    opts = options(role)
    for name, value in defaults(role).items():
        if name not in opts:
            problems.append("%s is in defaults/main.yml but not in the argument specs" % name)
        elif is_template(value):
            if "default" in opts[name]:
                problems.append("%s: defaults/main.yml computes it (%s); the spec must not claim a fixed default %r"
                                % (name, value, opts[name]["default"]))
        elif "default" not in opts[name]:
            problems.append("%s: defaults/main.yml has %r, the spec documents no default" % (name, value))
        elif opts[name]["default"] != value:
            problems.append("%s: spec default %r, defaults/main.yml %r" % (name, opts[name]["default"], value))
    for name, spec in opts.items():
        if "default" in spec and name not in defaults(role):
            problems.append("%s: the spec documents a default %r that defaults/main.yml does not set"
                            % (name, spec["default"]))
    assert not problems, "%s:\n  %s" % (role, "\n  ".join(problems))


@pytest.mark.parametrize("role", ROLES)
def test_role_reads_only_documented_variables(role):
    """A role variable the tasks, handlers, templates or vars read is an option, or set by the role itself."""
    used = set()
    for path in role_files(role):
        used.update(re.findall(r"\b(%s_[a-z0-9_]+)\b" % re.escape(role), path.read_text()))
    undocumented = used - set(options(role)) - produced_variables(role)
    assert not undocumented, "%s reads variables that are not in its argument specs: %s" % (role, sorted(undocumented))


# --- role READMEs ------------------------------------------------------------------------------------


def check_default(name, cell, value, readme_yaml):
    """None if the README's default cell documents value, else what is wrong."""
    codes = re.findall(r"`([^`]*)`", cell)
    if value is None:
        if codes or cell.lower() not in ("none", "-", "required"):
            return "%s has no default; the README says %r (write none)" % (name, cell)
        return None
    if "below" in cell.lower() and not codes:
        if name not in readme_yaml:
            return "%s: the README points below, but no ```yaml block sets %s" % (name, name)
        return None if readme_yaml[name] == value else "%s: README yaml %r, defaults/main.yml %r" % (
            name, readme_yaml[name], value)
    if len(codes) != 1:
        return "%s: the default cell must be one code span (or 'see below'), got %r" % (name, cell)
    if is_template(value):
        return None if codes[0] == value else "%s: README default %r, defaults/main.yml %r" % (name, codes[0], value)
    try:
        documented = yaml.safe_load(codes[0])
    except yaml.YAMLError as exc:
        return "%s: README default %r is not YAML: %s" % (name, codes[0], exc)
    if documented != value or type(documented) is not type(value):
        return "%s: README default %r (%s), defaults/main.yml %r (%s)" % (
            name, documented, type(documented).__name__, value, type(value).__name__)
    return None


@pytest.mark.parametrize("role", ROLES)
def test_role_readme_documents_every_option(role):
    readme = ROLES_DIR / role / "README.md"
    assert readme.is_file(), "%s has no README.md" % role
    text = readme.read_text()
    assert text.startswith("# vip.mtls.%s\n" % role)
    rows = {k: v for k, v in table_rows(text).items() if k.startswith(role + "_")}
    readme_yaml = yaml_blocks(text)
    opts = options(role)
    defs = defaults(role)
    produced = produced_variables(role)
    problems = ["%s is not documented in the README" % name for name in opts if name not in rows]
    problems += ["%s is documented but is no option (stale?)" % name for name in rows
                 if name not in opts and name not in produced]
    for name, spec in opts.items():
        if name not in rows:
            continue
        cells = rows[name]
        if len(cells) != 4:
            problems.append("%s: expected | variable | type | default | description |, got %r" % (name, cells))
            continue
        _name, kind, default_cell, description = cells
        if kind != type_text(spec):
            problems.append("%s: README type %r, spec %r" % (name, kind, type_text(spec)))
        for choice in spec.get("choices") or ():
            if "`%s`" % choice not in description and '`"%s"`' % choice not in description:
                problems.append("%s: choice %r not named in the README" % (name, choice))
        if spec.get("no_log") and "no_log" not in description:
            problems.append("%s is no_log; the README must say so" % name)
        problem = check_default(name, default_cell, defs.get(name), readme_yaml)
        if problem:
            problems.append(problem)
    public_results = {n for n in produced if n.startswith(role + "_") and n not in opts}
    problems += ["the role sets %s; the README's Results do not name it" % n for n in sorted(public_results)
                 if n not in rows]
    assert not problems, "%s/README.md:\n  %s" % (role, "\n  ".join(problems))


def test_umbrella_role_readme_points_to_the_roles_it_runs():
    text = (ROLES_DIR / "vip_mtls" / "README.md").read_text()
    tasks = (ROLES_DIR / "vip_mtls" / "tasks" / "main.yml").read_text()
    ran = re.findall(r"name: vip\.mtls\.(vip_[a-z_]+)", tasks)
    assert {"vip_trust", "vip_client_cert", "vip_verify"} <= set(ran)
    for role in set(ran):
        assert "../%s/README.md" % role in text, role


def test_readme_check_detects_drift():
    """The checks above can fail: a wrong default, a mode written unquoted, a missing template."""
    assert check_default("x", "`30`", 30, {}) is None
    assert check_default("x", "`31`", 30, {})
    assert check_default("x", "`0600`", "0600", {})  # YAML reads 0600 as a number
    assert check_default("x", '`"0600"`', "0600", {}) is None
    assert check_default("x", "`[]`", [], {}) is None
    assert check_default("x", "`{{ a | default('b') }}`", "{{ a | default('b') }}", {}) is None
    assert check_default("x", "`{{ a }}`", "{{ a | default('b') }}", {})
    assert check_default("x", "see below", [1], {"x": [1]}) is None
    assert check_default("x", "see below", [1], {"x": [2]})
    assert check_default("x", "none", None, {}) is None
    assert check_default("x", "`1`", None, {})
    assert split_row(r"| `a` | str | `{{ b \| c }}` | d |") == ["`a`", "str", "`{{ b | c }}`", "d"]


# --- the troubleshooting table -------------------------------------------------------------------------


def _failed_calls(function):
    return [n for n in ast.walk(function) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "_Failed"]


def _called_name(call):
    return getattr(call.func, "id", None) or getattr(call.func, "attr", None)


def _binds(target, name):
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(target))


class _ReasonReader:
    """What strings an expression in tls_probe.py can evaluate to, as far as the source shows: literals,
    module constants (TLS_ERROR_REASONS, ...), local variables through their assignments and for-loops, and
    calls through what the called function returns. Parameters resolve to nothing (unknown)."""

    def __init__(self, tree):
        self.constants, self.functions = {}, {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.constants[node.targets[0].id] = node.value
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                self.functions.setdefault(node.name, node)

    def strings(self, expr, function, seen=frozenset()):
        found = set()
        if isinstance(expr, ast.Constant):
            return {expr.value} if isinstance(expr.value, str) else set()
        if isinstance(expr, ast.Name):
            if expr.id in seen:
                return set()
            seen = seen | {expr.id}
            if expr.id in self.constants:
                return self.strings(self.constants[expr.id], None, seen)
            for node in ast.walk(function) if function is not None else ():
                if isinstance(node, ast.Assign) and any(_binds(t, expr.id) for t in node.targets):
                    found |= self.strings(node.value, function, seen)
                elif isinstance(node, ast.For) and _binds(node.target, expr.id):
                    found |= self.strings(node.iter, function, seen)
            return found
        if isinstance(expr, ast.Call):
            name = _called_name(expr)
            if name in self.functions and name not in seen:
                callee = self.functions[name]
                for node in ast.walk(callee):
                    if isinstance(node, ast.Return) and node.value is not None:
                        found |= self.strings(node.value, callee, seen | {name})
            if isinstance(expr.func, ast.Attribute):  # CONSTANT.get(key, default)
                found |= self.strings(expr.func.value, function, seen)
            for arg in expr.args[1:] if isinstance(expr.func, ast.Attribute) else ():
                found |= self.strings(arg, function, seen)
            return found
        for child in ast.iter_child_nodes(expr):
            if isinstance(child, ast.expr):
                found |= self.strings(child, function, seen)
        return found


def emitted_reasons():
    """(reason, stage) pairs the probe can produce, read from its source, and the reasons that have a hint.

    Every _Failed(REASON, STAGE, ...) call gives its pairs; a reason computed from something the source does
    not show (a parameter) counts as every reason code the same function mentions, at stage "?" (unchecked)."""
    tree = ast.parse(PROBE.read_text())
    reader = _ReasonReader(tree)
    hint_keys = {k.value for k in reader.constants["HINTS"].keys}
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    literal = {c.args[0].value for f in functions for c in _failed_calls(f) if isinstance(c.args[0], ast.Constant)}
    known = (hint_keys | literal) - {"ok"}
    pairs = set()
    for function in functions:
        for call in _failed_calls(function):
            reasons = reader.strings(call.args[0], function) & known
            stages = reader.strings(call.args[1], function) or {"?"}
            if not reasons:
                reasons = {n.value for n in ast.walk(function) if isinstance(n, ast.Constant) and n.value in known}
                stages = {"?"}
            pairs |= {(reason, stage) for reason in reasons for stage in stages}
    return pairs, hint_keys - {"ok"}


def info_reasons():
    """Reasons mtls_info adds to the probe's own (a URL that cannot be checked at all)."""
    return set(re.findall(r'"reason": "([a-z_]+)"', INFO.read_text()))


def troubleshooting_rows():
    rows = table_rows(section(README.read_text(), "Troubleshooting"))
    assert rows, "the Troubleshooting section has no table"
    return rows


def test_reason_extraction_finds_the_known_reasons():
    """The source reading above really sees the probe's reasons and stages (so the next test can fail)."""
    pairs, hint_keys = emitted_reasons()
    reasons = {r for r, _stage in pairs}
    assert {"dns_failure", "server_untrusted", "client_cert_rejected", "application_error", "timeout"} <= reasons
    assert ("client_cert_rejected", "http") in pairs and ("client_cert_rejected", "tls") in pairs
    assert ("timeout", "dns") in pairs and ("server_hostname_mismatch", "tls") in pairs
    assert hint_keys <= reasons, "a reason with a hint that the source reading does not see: %s" % (
        hint_keys - reasons)


def test_troubleshooting_table_has_every_reason_at_its_stages():
    pairs, _unused = emitted_reasons()
    rows = troubleshooting_rows()
    problems = []
    for reason, stage in sorted(pairs):
        if reason not in rows:
            problems.append("reason %s has no row" % reason)
        elif stage != "?" and not re.search(r"\b%s\b" % stage, rows[reason][1]):
            problems.append("reason %s can happen at stage %s; its row says %r" % (reason, stage, rows[reason][1]))
    for reason in info_reasons():
        if reason not in rows:
            problems.append("mtls_info's reason %s has no row" % reason)
    emitted = {r for r, _stage in pairs} | info_reasons()
    problems += ["row %s: no such reason in the code (stale?)" % r for r in rows if r not in emitted]
    for reason, cells in rows.items():
        if len(cells) != 4 or not all(cells):
            problems.append("row %s: expected | reason | stage | what it means | what to do |" % reason)
    assert not problems, "README Troubleshooting:\n  " + "\n  ".join(sorted(set(problems)))


# --- the collection README ---------------------------------------------------------------------------


def playbook_variables():
    names = set()
    for path in (ROOT / "playbooks").glob("*.yml"):
        names.update(re.findall(r"\b(vip_(?:rollout|audit)_[a-z0-9_]+)\s*\|\s*default", path.read_text()))
    return names


def test_collection_readme_names_only_existing_variables():
    known = set(playbook_variables())
    for role in ROLES:
        known |= set(options(role)) | produced_variables(role)
    text = README.read_text()
    mentioned = set(re.findall(r"\b(vip_(?:trust|client_cert|verify|audit|rollout|mtls)_[a-z0-9_]+)", text))
    assert {"vip_rollout_serial", "vip_trust_include_g1"} <= mentioned
    unknown = sorted(mentioned - known)
    assert not unknown, "README.md mentions variables that do not exist: %s" % unknown


def test_collection_readme_yaml_examples_parse():
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), re.DOTALL)
    assert len(blocks) >= 2
    for block in blocks:
        yaml.safe_load(block)


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_between_the_readmes_resolve():
    pages = [README] + sorted(ROLES_DIR.glob("*/README.md"))
    problems = []
    for page in pages:
        text = page.read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+://", target):
                continue
            path, _sep, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                problems.append("%s: %s does not exist" % (page.relative_to(ROOT), target))
            elif anchor and linked.suffix == ".md":
                code_free = re.sub(r"^```.*?^```", "", linked.read_text(), flags=re.MULTILINE | re.DOTALL)
                anchors = {slug(h) for h in re.findall(r"^#+ (.*)$", code_free, re.MULTILINE)}
                if anchor not in anchors:
                    problems.append("%s: no heading for #%s in %s" % (page.relative_to(ROOT), anchor, linked.name))
    assert not problems, "\n".join(problems)
    assert slug("Moving from DigiCert Global Root CA (G1) to Global Root G2") == \
        "moving-from-digicert-global-root-ca-g1-to-global-root-g2"
