"""Human words for every audit action and offboarding step.

The list of action codes is read from the source (every call that writes an
audit event, following the helpers that pass a code through), so a new code
without a sentence in security/display.py fails here."""

import ast
import itertools
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from security import services
from security.audit import audit_write
from security.display import ACTION_SENTENCES, OFFBOARDING_STEPS, describe_events
from security.hooks import OFFBOARDING_HOOKS
from security.models import AuditEvent
from tests.helpers import reauthenticate
from tests.security.factories import SocialAccountFactory, TrainingRecordFactory

# --- reading the source for audit codes ---------------------------------------

ROOT = Path(__file__).resolve().parents[2]
APPS = ["accounts", "security", "inbox", "strategy", "socialops"]
# Calls that write an audit event, and the argument that carries the action code.
SINKS = {"audit_write", "record"}
# Places that pass through a code decided elsewhere (the signal receiver relays accounts.audit.record's
# code; offboarding's extra steps are named by the hooks that run, checked by running them).
PASSTHROUGH = {("security/signals.py", "write_structure_event"), ("accounts/audit.py", "record"),
               ("security/services/offboarding.py", "offboard_user")}
UNRESOLVED = "<unresolved>"


class Module:
    def __init__(self, path: Path):
        self.path = path
        self.rel = path.relative_to(ROOT).as_posix()
        self.dotted = self.rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        self.tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                child.parent = node  # type: ignore[attr-defined]
        self.constants = {}
        for node in self.tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.constants[target.id] = node.value.value


def _modules():
    for app in APPS:
        base = ROOT / app
        if not base.exists():
            continue
        for path in sorted(base.rglob("*.py")):
            if "migrations" in path.parts or "tests" in path.parts:
                continue
            yield Module(path)


def _enclosing_function(node):
    while node is not None and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        node = getattr(node, "parent", None)
    return node


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


class Scanner:
    def __init__(self):
        self.modules = list(_modules())
        self.constants: dict[str, set[str]] = {}
        for module in self.modules:
            for name, value in module.constants.items():
                self.constants.setdefault(name, set()).add(value)
        self.calls = [(m, node) for m in self.modules for node in ast.walk(m.tree) if isinstance(node, ast.Call)]
        self.unresolved: list[str] = []

    def codes(self) -> set[str]:
        found: set[str] = set()
        for module, call in self.calls:
            name = _call_name(call)
            if name not in SINKS:
                continue
            if name == "record" and not (isinstance(call.func, ast.Attribute) and isinstance(
                    call.func.value, ast.Name) and call.func.value.id == "audit"):
                continue
            arg = next((k.value for k in call.keywords if k.arg == "action"), None)
            if arg is None:
                continue
            found |= self._eval(module, call, arg, depth=0)
        return {c for c in found if UNRESOLVED not in c}

    def _eval(self, module: Module, at, expr, depth: int) -> set[str]:
        if depth > 6:
            return {UNRESOLVED}
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            return self._eval(module, at, expr.body, depth) | self._eval(module, at, expr.orelse, depth)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left, right = self._eval(module, at, expr.left, depth), self._eval(module, at, expr.right, depth)
            return {a + b for a, b in itertools.product(left, right)}
        if isinstance(expr, ast.JoinedStr):
            parts = []
            for value in expr.values:
                if isinstance(value, ast.Constant):
                    parts.append({value.value})
                else:
                    parts.append(self._eval(module, at, value.value, depth))
            return {"".join(p) for p in itertools.product(*parts)}
        if isinstance(expr, ast.Name):
            return self._eval_name(module, at, expr.id, depth)
        self._unresolved(module, at, ast.unparse(expr))
        return {UNRESOLVED}

    def _unresolved(self, module, at, what):
        function = _enclosing_function(at)
        where = (module.rel, function.name if function else "")
        if where not in PASSTHROUGH:
            self.unresolved.append(f"{module.rel}:{at.lineno}: {what}")

    def _eval_name(self, module: Module, at, name: str, depth: int) -> set[str]:
        function = _enclosing_function(at)
        if function is not None:
            params = [a.arg for a in function.args.posonlyargs + function.args.args]
            kwonly = [a.arg for a in function.args.kwonlyargs]
            if name in params or name in kwonly:
                if (module.rel, function.name) in PASSTHROUGH:
                    return set()
                index = params.index(name) if name in params else None
                return self._values_passed(module, function, name, index, depth)
        if name in module.constants:
            return {module.constants[name]}
        if name in self.constants and len(self.constants[name]) == 1:
            return set(self.constants[name])
        self._unresolved(module, at, name)
        return {UNRESOLVED}

    def _values_passed(self, module: Module, function, name: str, index, depth: int) -> set[str]:
        is_method = bool(function.args.args) and function.args.args[0].arg == "self"
        nested = _enclosing_function(getattr(function, "parent", None)) is not None
        values: set[str] = set()
        callers = 0
        for caller_module, call in self.calls:
            if _call_name(call) != function.name:
                continue
            if is_method or nested:
                if caller_module is not module:
                    continue
            elif caller_module is not module and not self._imports(caller_module, function.name, module):
                continue
            if is_method and not (isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
                                  and call.func.value.id == "self"):
                continue
            arg = next((k.value for k in call.keywords if k.arg == name), None)
            if arg is None and index is not None:
                position = index - 1 if is_method else index
                if position < len(call.args):
                    arg = call.args[position]
            if arg is None:
                continue
            callers += 1
            values |= self._eval(caller_module, call, arg, depth + 1)
        if not callers:
            self._unresolved(module, function, f"{function.name}({name}=...) has no callers")
        return values

    @staticmethod
    def _imports(module: Module, name: str, source: Module) -> bool:
        """Whether ``module`` imports ``name`` from ``source`` (absolute or relative import)."""
        package = module.dotted.split(".")[:-1] if not module.rel.endswith("__init__.py") else module.dotted.split(".")
        for node in ast.walk(module.tree):
            if not isinstance(node, ast.ImportFrom) or not any(a.name == name for a in node.names):
                continue
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                target = ".".join(base + (node.module.split(".") if node.module else []))
            else:
                target = node.module or ""
            if target == source.dotted:
                return True
        return False


def audit_codes() -> tuple[set[str], list[str]]:
    scanner = Scanner()
    codes = scanner.codes()
    return codes, scanner.unresolved


# --- every code has words -------------------------------------------------------

def test_the_source_scan_finds_the_codes_of_every_app_and_resolves_every_call():
    codes, unresolved = audit_codes()
    assert not unresolved, f"audit calls whose action code the scan cannot follow: {unresolved}"
    # The scan follows literals, constants, f-strings through helpers (offboarding's step(), the inbox's
    # _event(), the admin mixin's method) and conditional codes: one of each, so a broken scan fails here.
    for expected in ("user.create", "authz.denied", "grant.create", "reveal.reject", "offboard.deactivate",
                     "conversation.note", "routing_rule.delete", "admin.change", "second_factor.reset_approve",
                     "auth.login_failed", "saved_reply.create"):
        assert expected in codes
    assert len(codes) > 60


def test_every_audit_code_in_the_source_has_a_sentence():
    codes, _unresolved = audit_codes()
    missing = sorted(code for code in codes if code not in ACTION_SENTENCES)
    assert not missing, f"add a sentence to security/display.py ACTION_SENTENCES for: {missing}"


def test_every_registered_offboarding_step_has_a_sentence(admin_user, make_member):
    # Steps added by hooks (the inbox's) are named at run time: run them for a leaver.
    leaver = make_member(Role.COMMUNITY_MANAGER)
    for hook in OFFBOARDING_HOOKS:
        name, _result = hook(actor=admin_user, user=leaver, reason="left")
        assert name in OFFBOARDING_STEPS, f"add a sentence for the offboarding step {name!r}"
        assert f"offboard.{name}" in ACTION_SENTENCES


# --- the log page ----------------------------------------------------------------

@pytest.fixture
def granted(admin_user, make_member):
    account = SocialAccountFactory(handle="@acme", display_name="Acme")
    ana = make_member(first_name="Ana", last_name="Lopez")
    TrainingRecordFactory(user=ana)
    services.grant_create(actor=admin_user, account=account, capability="publish", user=ana,
                          reason="press office <script>alert(1)</script>", reauthenticated_at=timezone.now())
    return account, ana


def audit_rows(html: str) -> list[str]:
    return re.findall(r'<span data-testid="audit-sentence" dir="auto">(.*?)</span>', html, re.S)


def test_the_log_shows_a_sentence_with_names_and_escapes_the_reason(admin_user, client_for, granted):
    account, ana = granted
    html = client_for(admin_user).get(reverse("security:audit"), {"action": "grant."}).content.decode()
    rows = audit_rows(html)
    assert rows == [f"Granted publish on {account} to Ana Lopez (reason: press office "
                    "&lt;script&gt;alert(1)&lt;/script&gt;)"]
    assert "<script>alert(1)" not in html
    assert "{&#x27;" not in html.split('data-testid="audit-events"')[1].split("<details")[0]  # no dict on show


def test_raw_data_is_one_click_away_for_admins_only(admin_user, client_for, make_member, granted):
    html = client_for(admin_user).get(reverse("security:audit"), {"action": "grant."}).content.decode()
    raw = re.search(r'<details data-testid="audit-raw">(.*?)</details>', html, re.S).group(1)
    assert "grant.create" in raw and '&quot;capability&quot;: &quot;publish&quot;' in raw
    assert "&lt;script&gt;" in raw and "<script>" not in raw
    executive = make_member(Role.EXECUTIVE)
    html = client_for(executive).get(reverse("security:audit"), {"action": "grant."}).content.decode()
    assert len(audit_rows(html)) == 1
    assert 'data-testid="audit-raw"' not in html and "grant.create</code>" not in html


def test_every_recorded_kind_reads_as_a_sentence_without_codes(admin_user, make_member):
    # One event per code, with data of the shape its writer records, none left as a raw code.
    person = make_member(first_name="Bea", last_name="Ruiz")
    for code in ACTION_SENTENCES:
        audit_write(actor=admin_user, action=code, target_type="x.y", target_id="1", target_repr="Thing",
                    after={"user": person.pk, "reason": "because", "count": 2})
    for row in describe_events(AuditEvent.objects.all()):
        sentence = row["sentence"]
        assert row["event"].action not in sentence
        assert "%(" not in sentence and "{'" not in sentence, sentence
        assert sentence.endswith(")") or sentence.endswith(".") or sentence.endswith("because"), sentence


def test_the_log_page_runs_a_fixed_number_of_queries(admin_user, client_for, make_member,
                                                     django_assert_max_num_queries):
    client = client_for(admin_user)
    client.get(reverse("security:audit"))  # sessions and caches warmed up

    def grants(n):
        for _ in range(n):
            account = SocialAccountFactory()
            services.grant_create(actor=admin_user, account=account, capability="draft", user=make_member(),
                                  reason="x")

    grants(2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("security:audit"))
    grants(8)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("security:audit"))


def test_offboarding_summary_reads_as_sentences(admin_user, make_member, client_for):
    leaver = make_member(Role.COMMUNITY_MANAGER, first_name="Leo", last_name="Vale")
    client = reauthenticate(client_for(admin_user))
    response = client.post(reverse("security:offboard", args=[leaver.pk]), {"reason": "contract ended",
                                                                            "confirm": "on"})
    html = response.content.decode()
    assert response.status_code == 200
    steps = re.findall(r'<li data-step="([^"]+)">([^<]*)', html)
    assert [s for s, _t in steps][:2] == ["deactivate", "revoke_rights"]
    texts = dict(steps)
    assert texts["deactivate"].strip() == "Deactivated the account: they can no longer sign in."
    assert texts["end_memberships"].strip() == "Ended their roles in workgroups and departments (roles ended: 1)."
    assert all("_" not in text and "{" not in text for text in texts.values())
    log = client.get(reverse("security:audit"), {"action": "offboard."}).content.decode()
    rows = audit_rows(log)
    assert "Offboarding Leo Vale: Deactivated the account: they can no longer sign in (reason: contract ended)" \
        in rows
    assert "Offboarding Leo Vale: Signed them out everywhere (browser sessions ended: 0; API tokens ended: all) " \
        "(reason: contract ended)" in rows
    assert all("redacted" not in row and "_" not in row for row in rows)


# --- a reversed date range -------------------------------------------------------

def test_a_range_that_ends_before_it_starts_says_so(admin_user, client_for):
    client = client_for(admin_user)
    response = client.get(reverse("security:audit"), {"since": "2026-11-20", "until": "2026-11-10"})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-field="until"' in html and "ends (2026-11-10) before it starts (2026-11-20)" in html
    assert 'href="#id_until">Until: The range ends' in html
    assert "No events match" not in html  # not an empty list that reads as "nothing happened"
    response = client.get(reverse("security:audit-csv"), {"since": "2026-11-20", "until": "2026-11-10"})
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    assert "before it starts" in response.content.decode()


def test_a_one_day_range_is_fine(admin_user, client_for):
    today = date.today().isoformat()
    response = client_for(admin_user).get(reverse("security:audit"), {"since": today, "until": today})
    assert response.status_code == 200 and "error-summary" not in response.content.decode()
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    response = client_for(admin_user).get(reverse("security:audit-csv"), {"since": yesterday, "until": today})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert User.objects.filter(pk=admin_user.pk).exists()
