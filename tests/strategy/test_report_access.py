"""Who sees which report, on the page, the CSV files and the API; the
drill-down links lead to exactly the conversations behind each number and
never past the viewer's rights; bad input is a 400 or 403 naming the field,
never a 500. The world is the ``october`` fixture (conftest.py)."""

import csv
import io
import re

import pytest
from django.utils.html import escape

from inbox.models import Conversation
from strategy.models import Brand
from strategy.reports import build_report, parse_request, report_scopes_for
from tests.security.factories import SocialAccountFactory
from tests.strategy.conftest import OCTOBER

PAGE = "/strategy/reports/"
API = "/api/reports/"


def keys(user) -> list[str]:
    return [scope.key for scope in report_scopes_for(user)]


def listed(response) -> list[int]:
    """The conversations an inbox page lists."""
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    assert 'rel="next"' not in html  # everything on one page
    return [int(pk) for pk in re.findall(r'data-testid="conversation-row" data-conversation="(\d+)"', html)]


@pytest.fixture
def other_brand(october):
    account = SocialAccountFactory(platform="mastodon", handle="@other", display_name="Other", sandbox=True)
    brand = Brand.objects.create(name="Other brand", slug="other")
    brand.accounts.add(account)
    return brand, account


# --- scopes -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_executives_and_admins_see_the_organisation_first(october, other_brand):
    w = october
    for user in (w["executive"], w["admin"]):
        scopes = keys(user)
        assert scopes[0] == "organisation"
        assert {f"brand:{w['brand'].pk}", f"brand:{other_brand[0].pk}", f"account:{w['a'].pk}",
                f"account:{other_brand[1].pk}", f"department:{w['service'].pk}",
                f"department:{w['returns'].pk}"} <= set(scopes)


@pytest.mark.django_db
def test_a_social_media_manager_sees_their_brands_and_those_brands_channels(october, other_brand):
    w = october
    scopes = keys(w["smm"])
    assert "organisation" not in scopes
    assert scopes[:3] == [f"brand:{w['brand'].pk}", f"account:{w['b'].pk}", f"account:{w['a'].pk}"]
    assert f"brand:{other_brand[0].pk}" not in scopes and f"account:{other_brand[1].pk}" not in scopes
    report = build_report(w["smm"], parse_request(w["smm"], OCTOBER))
    assert report.request.scope.key == f"brand:{w['brand'].pk}"
    assert report.figures["volume"].current == 10 and not report.hidden


@pytest.mark.django_db
def test_a_department_representative_sees_only_their_department_and_is_told_what_is_hidden(october, client_for):
    w = october
    assert keys(w["lena"]) == [f"department:{w['returns'].pk}"]
    report = build_report(w["lena"], parse_request(w["lena"], OCTOBER))
    assert report.limited and report.hidden
    assert "objectives" not in report.tables
    assert report.figures["volume"].current == 3  # Returns' own part, not the organisation's 10
    page = client_for(w["lena"]).get(PAGE, OCTOBER)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="report-hidden"' in html and escape(str(report.hidden[0])) in html
    assert "Acme Madrid" not in html  # no row for the other department's channel
    assert 'id="h-objectives"' not in html


# --- refusals ---------------------------------------------------------------------------------

def refusal_cases(w, other_brand):
    return [
        ("lena", {"scope": "organisation"}, 403),
        ("lena", {"scope": f"department:{w['service'].pk}"}, 403),
        ("lena", {"scope": f"brand:{w['brand'].pk}"}, 403),
        ("lena", {"scope": f"account:{w['a'].pk}"}, 403),
        ("smm", {"scope": f"brand:{other_brand[0].pk}"}, 403),
        ("smm", {"scope": f"account:{other_brand[1].pk}"}, 403),
        ("smm", {"scope": "organisation"}, 403),
        ("executive", {"scope": "department:987654"}, 400),
        ("executive", {"scope": "brand:987654"}, 400),
        # Someone limited to some scopes cannot tell an unknown id from one they may not see.
        ("lena", {"scope": "account:987654"}, 403),
        ("executive", {"scope": "planet:1"}, 400),
        ("executive", {"scope": "brand:99999999999999999999"}, 400),
    ]


@pytest.mark.django_db
def test_a_scope_the_viewer_may_not_see_is_a_403_and_an_unknown_one_a_400_naming_scope(  # 403 when limited
        october, other_brand, client_for, api_for):
    w = october
    for who, params, status in refusal_cases(w, other_brand):
        user = w[who]
        page = client_for(user).get(PAGE, {**OCTOBER, **params})
        assert page.status_code == status, (who, params)
        html = page.content.decode()
        assert 'id="err_scope"' in html and 'aria-invalid="true"' in html, (who, params)
        assert 'data-testid="report"' not in html  # no figures at all
        api = api_for(user).get(API, {**OCTOBER, **params})
        assert api.status_code == status, (who, params)
        assert list(api.json()) == ["scope"], api.json()
        for path in ("/strategy/reports/pdf/", "/strategy/reports/csv/channels/"):
            assert client_for(user).get(path, {**OCTOBER, **params}).status_code == status


BAD_INPUT = [
    ({"period": "custom", "start": "2026-10-10", "end": "2026-10-01"}, "end", "end on or after"),
    ({"period": "custom", "start": "2024-01-01", "end": "2026-10-01"}, "start", "two years"),
    ({"period": "custom", "start": "2099-01-01", "end": "2099-01-02"}, "start", "future"),
    ({"period": "custom", "start": "2026-10-01", "end": "2099-01-01"}, "end", "future"),
    ({"period": "custom", "start": "2026-13-01", "end": "2026-10-01"}, "start", "is not a date"),
    ({"period": "custom", "start": "", "end": "2026-10-01"}, "start", "Enter a date"),
    ({"period": "custom", "start": "2026-10-01", "end": "yesterday"}, "end", "is not a date"),
    ({"period": "fortnight"}, "period", "Choose 7d"),
    ({"period": "month", "month": "2026-1"}, "month", "YYYY-MM"),
    ({"period": "month", "month": "2099-01"}, "month", "not started"),
    ({"period": "custom", "start": "2026-10-01\x00", "end": "2026-10-02"}, "start", "is not a date"),
    ({"period": "custom", "start": "0001-01-01", "end": "0001-01-02"}, "start", "2000 or later"),
    ({"period": "month", "month": "0001-01"}, "month", "2000 or later"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("params, field, words", BAD_INPUT)
def test_bad_input_is_a_400_naming_the_field_next_to_it(october, client_for, api_for, params, field, words):
    page = client_for(october["executive"]).get(PAGE, params)
    assert page.status_code == 400
    html = page.content.decode()
    message = re.search(rf'<span class="errorlist" id="err_{field}">([^<]*)</span>', html)
    assert message and words in message[1], html[:3000]
    assert f'id="id_{field}"' in html.split(f'id="err_{field}"')[0].rsplit("<p>", 1)[1]  # next to its field
    api = api_for(october["executive"]).get(API, params)
    assert api.status_code == 400
    assert list(api.json()) == [field] and words in api.json()[field][0]


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(client, api_for):
    assert client.get(PAGE).status_code == 302
    assert client.get("/strategy/reports/csv/channels/").status_code == 302
    assert api_for().get(API).status_code in (401, 403)


# --- drill-down -------------------------------------------------------------------------------

CONVERSATION_FIGURES = ("complaints_opened", "complaints_resolved", "complaints_open", "first_response_median",
                        "sla_share", "breaches", "influencer", "sensitive")


@pytest.mark.django_db
def test_every_conversation_figure_links_to_exactly_its_conversations(october, client_for):
    w = october
    report = build_report(w["executive"], parse_request(w["executive"], OCTOBER))
    client = client_for(w["executive"])
    expected = {"complaints_opened": 4, "complaints_resolved": 1, "complaints_open": 3, "breaches": 7,
                "influencer": 1, "sensitive": 1, "first_response_median": 6, "sla_share": 4}
    for key in CONVERSATION_FIGURES:
        url = report.figures[key].url
        assert len(listed(client.get(url))) == expected[key], (key, url)
    assert expected["complaints_opened"] == report.figures["complaints_opened"].current
    for table, column in (("intents", "conversations"), ("tags", "conversations"),
                          ("sla_departments", "conversations"), ("sla_departments", "breaches"),
                          ("sla_channels", "conversations"), ("sla_channels", "breaches")):
        for row in report.tables[table].rows:
            assert len(listed(client.get(row["links"][column]))) == row[column], (table, column, row)


@pytest.mark.django_db
def test_a_brand_scope_links_keep_to_the_brand(october, other_brand, client_for, monkeypatch):
    from tests.strategy.conftest import at, opened

    w = october
    opened(other_brand[1], 700, at(20, 10), "This is terrible, my order never arrived and nobody answers")
    params = {**OCTOBER, "scope": f"brand:{w['brand'].pk}"}
    report = build_report(w["executive"], parse_request(w["executive"], params))
    assert report.figures["complaints_opened"].current == 4  # the other brand's complaint is not counted
    rows = listed(client_for(w["executive"]).get(report.figures["complaints_opened"].url))
    assert len(rows) == 4


@pytest.mark.django_db
def test_a_department_representative_following_links_sees_only_their_department(october, client_for):
    w = october
    returns_ids = {w["c"][n].pk for n in (8, 9, 10)}
    lena = client_for(w["lena"])
    own = build_report(w["lena"], parse_request(w["lena"], OCTOBER))
    assert (own.figures["complaints_opened"].current, own.figures["breaches"].current) == (2, 2)
    for key in ("complaints_opened", "complaints_open", "breaches", "first_response_median"):
        rows = listed(lena.get(own.figures[key].url))
        assert set(rows) <= returns_ids
        assert len(rows) == {"complaints_opened": 2, "complaints_open": 2, "breaches": 2,
                             "first_response_median": 2}[key]
    # The executive's organisation-wide links, opened by the representative: still only Returns' part.
    everything = build_report(w["executive"], parse_request(w["executive"], OCTOBER))
    for key in CONVERSATION_FIGURES:
        assert set(listed(lena.get(everything.figures[key].url))) <= returns_ids, key
    # A link naming the other department lists nothing of it.
    service_link = everything.tables["sla_departments"].rows[0]["links"]["conversations"]
    assert everything.tables["sla_departments"].rows[0]["name"] == "Customer service"
    response = lena.get(service_link)
    assert response.status_code in (200, 400, 403, 404)
    if response.status_code == 200:
        assert listed(response) == []


# --- CSV --------------------------------------------------------------------------------------

def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.django_db
def test_every_table_downloads_as_csv_with_its_column_labels(october, client_for):
    from tests.strategy.conftest import at, opened

    w = october
    w["b"].display_name = "+Lisbon"  # a channel name a spreadsheet would run
    w["b"].save(update_fields=["display_name"])
    for n in range(4):  # Lisbon fell from 4 to 3: a negative change
        opened(w["b"], 800 + n, at(10 + n, 10, month=9), "Do you ship to Portugal?")
    report = build_report(w["executive"], parse_request(w["executive"], OCTOBER))
    client = client_for(w["executive"])
    for key, table in report.tables.items():
        rows = read_csv(client.get(f"/strategy/reports/csv/{key}/", OCTOBER))
        assert rows[0] == [str(c.label) for c in table.columns], key
        assert len(rows) == len(table.rows) + 1, key
    tags = read_csv(client.get("/strategy/reports/csv/tags/", OCTOBER))
    assert ["'=cmd()", "1", "0", ""] in tags and ["delivery", "2", "1", "100.0"] in tags
    channels = read_csv(client.get("/strategy/reports/csv/channels/", OCTOBER))
    lisbon = [row for row in channels if row[0].endswith("Lisbon")][0]
    assert lisbon[0] == "'+Lisbon"
    assert lisbon[1:4] == ["3", "4", "-25.0"]  # numbers stay numbers, a negative one too
    assert float(lisbon[4]) == pytest.approx(66.7)
    days = read_csv(client.get("/strategy/reports/csv/days/", OCTOBER))
    assert days[2][:2] == ["2026-10-02", "1"]
    assert client.get("/strategy/reports/csv/nonsense/", OCTOBER).status_code == 404


# --- API --------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_api_gives_the_same_figures_as_the_page(october, api_for):
    w = october
    for user, params in ((w["executive"], OCTOBER), (w["smm"], OCTOBER),
                         (w["executive"], {**OCTOBER, "scope": f"account:{w['b'].pk}"})):
        body = api_for(user).get(API, params)
        assert body.status_code == 200
        data = body.json()
        report = build_report(user, parse_request(user, params))
        assert data["scope"]["key"] == report.request.scope.key
        for key, figure in report.figures.items():
            got = data["figures"][key]
            assert (got["current"], got["previous"]) == (
                pytest.approx(figure.current) if figure.current is not None else None,
                pytest.approx(figure.previous) if figure.previous is not None else None), key
            assert got["change"] == (pytest.approx(figure.change) if figure.change is not None else None), key
        assert set(data["tables"]) == set(report.tables)
        assert data["summary"] == report.summary
    lena = api_for(w["lena"]).get(API, OCTOBER).json()
    assert lena["hidden"] and "objectives" not in lena["tables"]
    assert lena["figures"]["volume"]["current"] == 3


@pytest.mark.django_db
def test_the_report_endpoint_is_in_the_openapi_schema(api_for, october):
    import yaml

    response = api_for(october["executive"]).get("/api/schema/")
    assert response.status_code == 200
    operation = yaml.safe_load(response.content)["paths"]["/api/reports/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"period", "month", "start", "end", "scope"}
    assert "200" in operation["responses"]


@pytest.mark.django_db
def test_a_representative_follows_every_link_of_their_report_even_for_a_channel_not_theirs(october, client_for):
    """A department's conversations can come from a channel the department is
    not linked to (routing sends them there): its row's links open the list
    (no "select a valid choice" refusal) with exactly that department's part."""
    w = october
    moved = w["c"][1]  # on channel A (Customer service's); moved to Returns, whose people hold no right on A
    Conversation.objects.filter(pk=moved.pk).update(department=w["returns"])
    report = build_report(w["lena"], parse_request(w["lena"], OCTOBER))
    channel_a = [r for r in report.tables["channels"].rows if r["account_id"] == w["a"].pk]
    assert channel_a, "channel A's messages to Returns are in Lena's report"
    lena = client_for(w["lena"])
    assert listed(lena.get(channel_a[0]["links"]["messages"])) == [moved.pk]
    returns_ids = {w["c"][n].pk for n in (8, 9, 10)} | {moved.pk}
    for table in report.tables.values():
        for row in table.rows:
            for url in (row.get("links") or {}).values():
                if url and url.startswith("/inbox/"):
                    assert set(listed(lena.get(url))) <= returns_ids, (table.key, url)
