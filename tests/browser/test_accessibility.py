"""axe-core on every page a person of each demo role reaches: the pages in
their navigation, the inbox list, a conversation, a channel's rights,
custody, audit, people, coverage, the settings pages, their notifications,
a search and "my security". None may have a critical or serious violation
(nor an empty table header, nor a control whose name hides its visible
text, like a bell showing "1" named only "Notifications").

The data is the demo organisation itself (``seed_demo``), as a newcomer sees
it, with one unread notification for the person signing in."""

import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from accounts.services import notify
from tests.browser.conftest import assert_accessible, axe_violations, describe_violations, sign_in

# One demo login per role (accounts/demo.py).
ROLES = {
    "admin": "ada",
    "executive": "erik",
    "social media manager": "sofia",
    "community manager": "cora",
    "specialist": "sam",
    "department representative": "rita",
}

# Pages every role must reach; the others are visited when the role may see them.
SETTINGS_PAGES = ["/inbox/coverage/", "/inbox/settings/sla/", "/inbox/settings/triage/",
                  "/inbox/settings/routing/", "/inbox/saved-replies/"]


def seed_demo() -> None:
    call_command("seed_demo", quiet_logins=True)


def first_href(pg, path: str, pattern: str) -> str | None:
    pg.goto(path)
    for href in pg.locator("main a[href]").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        if re.fullmatch(pattern, urlsplit(href).path):
            return urlsplit(href).path
    return None


def pages_for(pg) -> list[str]:
    """The navigation's pages, then one of each detail page the person may open."""
    pg.goto("/")
    pages = pg.locator("nav.sidenav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    conversation = first_href(pg, "/inbox/", r"/inbox/c/\d+/")
    channel = first_href(pg, "/channels/", r"/channels/\d+/")
    pages += [conversation, channel, "/notifications/", "/me/security/", "/me/access/", "/search/?q=Ada"]
    pages += SETTINGS_PAGES
    if channel:
        pages.append(f"/inbox/settings/windows/{channel.strip('/').split('/')[-1]}/")
    pages += [first_href(pg, "/custody/", r"/custody/\d+/"), first_href(pg, "/people/", r"/people/\d+/"),
              first_href(pg, "/workgroups/", r"/workgroups/[\w-]+/"), "/audit/", "/people/"]
    # The content calendar's pages: the list view, a post, the composer, my posts and the two queues.
    pages += ["/strategy/calendar/?view=list", "/strategy/calendar/?view=week",
              first_href(pg, "/strategy/calendar/?view=list", r"/strategy/posts/\d+/"), "/strategy/posts/new/",
              "/strategy/posts/", "/strategy/posts/review/", "/strategy/posts/by-hand/"]
    return list(dict.fromkeys(p for p in pages if p))


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_of_every_role_has_no_serious_accessibility_violation(page, role):
    seed_demo()
    username = ROLES[role]
    person = User.objects.get(username=username)
    notify(recipient=person, kind="mention", text="Sam mentioned you on a conversation", url="/inbox/")
    sign_in(page, username, DEMO_PASSWORD)
    expect(page.get_by_test_id("current-user")).to_be_visible()

    # The bell's name carries the count it shows.
    unread = person.notifications.filter(read_at__isnull=True).count()
    bell = page.get_by_role("link", name=re.compile(rf"^Notifications\s+{unread} unread$"))
    expect(bell).to_be_visible()
    expect(bell).to_contain_text(str(unread))

    visited, failures = [], []
    for path in pages_for(page):
        response = page.goto(path)
        if response.status in (403, 404):
            continue  # not this role's page
        assert response.status == 200, f"{path} answered {response.status} for {username}"
        visited.append(urlsplit(path).path)
        violations = axe_violations(page)
        if violations:
            failures.append(describe_violations(violations, path))
    assert not failures, f"as {username} ({role}):\n" + "\n".join(failures)

    must_reach = {"/", "/inbox/", "/inbox/coverage/", "/notifications/", "/me/security/", "/search/"}
    assert must_reach <= set(visited), f"{username} did not reach {must_reach - set(visited)}"
    assert any(p.startswith("/inbox/c/") for p in visited), f"{username} opened no conversation"
    assert any(re.fullmatch(r"/channels/\d+/", p) for p in visited), f"{username} opened no channel"
    if role == "admin":
        admin_pages = {"/audit/", "/people/", "/custody/", "/inbox/settings/sla/", "/inbox/settings/routing/"}
        assert admin_pages <= set(visited), f"the admin did not reach {admin_pages - set(visited)}"
        assert any(re.fullmatch(r"/custody/\d+/", p) for p in visited)
        assert any(re.fullmatch(r"/people/\d+/", p) for p in visited)


def test_a_violation_fails_with_a_readable_list(page, live_server):
    """The check itself: low contrast text and an empty table header are reported by rule and element."""
    page.goto("/login/")
    page.evaluate("""() => {
        const main = document.querySelector('main');
        main.insertAdjacentHTML('afterbegin',
          '<p class="pale">hard to read</p>' +
          '<table><thead><tr><th>Name</th><th></th></tr></thead><tbody><tr><td>a</td><td>b</td></tr></tbody></table>');
        // through the CSSOM: the Content-Security-Policy refuses style attributes in markup
        Object.assign(main.querySelector('.pale').style, {color: '#bbb', background: '#fff'});
    }""")
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    message = str(failure.value)
    assert "[serious] color-contrast: .pale" in message
    assert "empty-table-header" in message
    assert "/login/" in message


RTL_NAME, RTL_SURNAME = "مريم", "الحسيني"
RTL_REASON = "تساعد في الرد على العملاء"
RTL_NOTE = "رسالة جديدة من العميل"
RTL = re.compile(r"[\u0590-\u08ff]")


def rtl_text_without_dir_auto(pg) -> tuple[int, list[str]]:
    """How many right-to-left texts the page's main area shows, and the
    elements around those whose direction is not decided by their own text
    (no ``dir="auto"`` on them or an ancestor)."""
    return pg.evaluate(r"""() => {
        const rtl = /[\u0590-\u08ff]/;
        const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
        let count = 0; const bad = [];
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (!rtl.test(node.textContent)) continue;
            const parent = node.parentElement;
            // form controls are checked elsewhere; recorded data (JSON) is laid out left to right
            if (parent.closest('input, textarea, select, option, script, pre, code')) continue;
            count += 1;
            const directed = parent.closest('[dir]');
            if (!directed || directed.getAttribute('dir') !== 'auto') bad.push(parent.outerHTML.slice(0, 160));
        }
        return [count, bad];
    }""")


def test_user_written_text_takes_its_own_direction(page):
    """Names, reasons and notes in Arabic are shown with dir="auto" wherever
    they appear outside the inbox (the inbox list and the conversation page
    have their own tests)."""
    from security.models import SocialAccount
    from security.services import grant_create

    seed_demo()
    ada, ivan, sofia = (User.objects.get(username=u) for u in ("ada", "ivan", "sofia"))
    sofia.first_name, sofia.last_name = RTL_NAME, RTL_SURNAME
    sofia.save(update_fields=["first_name", "last_name"])
    account = SocialAccount.objects.order_by("pk").first()
    grant_create(actor=ada, account=account, capability="draft", user=ivan, reason=RTL_REASON)
    notify(recipient=ada, kind="mention", text=RTL_NOTE, url="/inbox/")

    sign_in(page, "ada", DEMO_PASSWORD)
    sofia_page = f"/people/{sofia.pk}/"
    pages = ["/people/", sofia_page, f"/channels/{account.pk}/", "/audit/", "/notifications/",
             f"/search/?q={RTL_NAME}", "/departments/", "/workgroups/brand-care/"]
    problems = []
    for path in pages:
        assert page.goto(path).status == 200, path
        count, bad = rtl_text_without_dir_auto(page)
        if count == 0:
            problems.append(f"{path}: shows none of the right-to-left texts")
        problems += [f"{path}: {html}" for html in bad]
    assert not problems, "right-to-left text without dir=auto:\n" + "\n".join(problems)
