"""Brands through the pages: the list everyone who reads the register
sees, "New brand" for admins and social media managers, "Edit brand" for
admins and the brand's managers (``services.brand_update``); refusals are
400s naming the field with nothing saved, missing rights 403s."""

import re
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from accounts.roles import Role
from security.display import describe_events
from security.models import AuditEvent
from strategy import services
from strategy.models import Brand, Strategy
from tests.conftest import sign_in
from tests.security.factories import SocialAccountFactory
from tests.strategy.test_register_services import world  # noqa: F401

BRANDS, NEW = "/strategy/brands/", "/strategy/brands/new/"


def edit_url(brand):
    return f"/strategy/brands/{brand.pk}/edit/"


def field_error(html: str, field: str) -> bool:
    return f'data-field="{field}"' in html


def offered(html: str, name: str) -> set[int]:
    """The values of the checkboxes or the select options of the field ``name``."""
    boxes = re.findall(rf'name="{name}" value="(\d+)"', html)
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    options = re.findall(r'<option value="(\d+)"', select.group(0)) if select else []
    return {int(v) for v in boxes + options}


def csrf_client(user):
    return sign_in(Client(enforce_csrf_checks=True), user)


def token_of(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return response.cookies["csrftoken"].value if "csrftoken" in response.cookies \
        else client.cookies["csrftoken"].value


# --- reading, and who sees which button ------------------------------------------------------

@pytest.mark.django_db
def test_everyone_who_reads_the_register_sees_the_brands(world, client_for):  # noqa: F811
    w = world
    for user in (w["marketer"], w["executive"], w["smm"], w["admin"]):
        response = client_for(user).get(BRANDS)
        assert response.status_code == 200
        html = unescape(response.content.decode())
        row = html.split(f'data-brand="{w["brand"].pk}"')[1].split("</tr>")[0]
        assert "Acme" in row and str(w["account"]) in row and str(w["smm"]) in row
        assert "?brand=" in row and ">1</a>" in row  # one strategy, linked to the filtered register
    assert 'data-testid="brands-link"' in client_for(w["marketer"]).get("/strategy/").content.decode()
    assert Client().get(BRANDS).status_code == 302  # anonymous: to sign in


@pytest.mark.django_db
def test_new_brand_is_for_admins_and_social_media_managers_only(world, client_for):  # noqa: F811
    w = world
    for user in (w["smm"], w["admin"]):
        assert 'data-testid="new-brand"' in client_for(user).get(BRANDS).content.decode()
        assert client_for(user).get(NEW).status_code == 200
    for user in (w["marketer"], w["executive"]):
        assert 'data-testid="new-brand"' not in client_for(user).get(BRANDS).content.decode()
        assert client_for(user).get(NEW).status_code == 403
    response = client_for(w["marketer"]).post(NEW, {"name": "Mine", "slug": "mine"})
    assert response.status_code == 403
    assert not Brand.objects.filter(slug="mine").exists()


@pytest.mark.django_db
def test_edit_brand_is_for_admins_and_the_brands_managers(world, client_for, make_member):  # noqa: F811
    w = world
    other_smm = make_member(Role.SOCIAL_MEDIA_MANAGER, department=w["marketing"], username="otto")
    for user in (w["smm"], w["admin"]):
        assert client_for(user).get(edit_url(w["brand"])).status_code == 200
        assert 'data-testid="edit-brand"' in client_for(user).get(BRANDS).content.decode()
    for user in (other_smm, w["marketer"], w["executive"]):
        assert client_for(user).get(edit_url(w["brand"])).status_code == 403
        assert 'data-testid="edit-brand"' not in client_for(user).get(BRANDS).content.decode()
    response = client_for(other_smm).post(edit_url(w["brand"]), {"managers": [other_smm.pk], "reason": "mine"})
    assert response.status_code == 403
    assert list(Brand.objects.get(pk=w["brand"].pk).managers.all()) == [w["smm"]]


@pytest.mark.django_db
def test_a_script_in_a_description_is_shown_as_text(world, client_for):  # noqa: F811
    w = world
    services.brand_create(actor=w["admin"], name="Evil", slug="evil", description="<script>alert(1)</script>")
    html = client_for(w["marketer"]).get(BRANDS).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html


@pytest.mark.django_db
def test_the_brands_page_runs_a_fixed_number_of_queries(world, client_for, django_assert_max_num_queries):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = world
    client = client_for(w["smm"])
    client.get(BRANDS)
    with CaptureQueriesContext(connection) as few:
        client.get(BRANDS)
    for n in range(5):
        services.brand_create(actor=w["smm"], name=f"Brand {n}", slug=f"brand-{n}",
                              accounts=[SocialAccountFactory()])
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(BRANDS)


# --- creating --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_brand_is_created_through_the_real_url_with_csrf(world):  # noqa: F811
    w = world
    account = SocialAccountFactory()
    client = csrf_client(w["smm"])
    data = {"name": "Globex", "slug": "globex", "description": "Rockets", "accounts": [account.pk]}
    assert client.post(NEW, data).status_code == 403  # no token
    assert not Brand.objects.filter(slug="globex").exists()
    response = client.post(NEW, {**data, "csrfmiddlewaretoken": token_of(client, NEW)})
    assert response.status_code == 302 and response["Location"] == BRANDS
    brand = Brand.objects.get(slug="globex")
    assert list(brand.accounts.all()) == [account]
    assert list(brand.managers.all()) == [w["smm"]]  # the social media manager who creates it manages it
    assert AuditEvent.objects.filter(action="strategy.brand_created", target_id=str(brand.pk)).exists()


@pytest.mark.django_db
def test_only_active_accounts_and_social_media_managers_are_offered(world, client_for, make_member):  # noqa: F811
    w = world
    retired = SocialAccountFactory(status="retired")
    html = client_for(w["admin"]).get(NEW).content.decode()
    assert w["account"].pk in offered(html, "accounts") and retired.pk not in offered(html, "accounts")
    assert w["smm"].pk in offered(html, "managers") and w["marketer"].pk not in offered(html, "managers")
    response = client_for(w["admin"]).post(NEW, {"name": "Old", "slug": "old", "accounts": [retired.pk],
                                                 "managers": [w["marketer"].pk]})
    assert response.status_code == 400
    html = response.content.decode()
    assert field_error(html, "accounts") and field_error(html, "managers")
    assert not Brand.objects.filter(slug="old").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name, slug, field", [("Acme", "acme-2", "name"), ("Acme Two", "acme", "slug")])
def test_a_duplicate_name_or_slug_is_a_400_naming_the_field(world, client_for, name, slug, field):  # noqa: F811
    w = world
    response = client_for(w["smm"]).post(NEW, {"name": name, "slug": slug, "accounts": [w["account"].pk]})
    assert response.status_code == 400
    html = response.content.decode()
    assert field_error(html, field) and "already exists" in html
    assert Brand.objects.count() == 1
    assert not AuditEvent.objects.filter(action="strategy.brand_created").exclude(
        target_id=str(w["brand"].pk)).exists()


@pytest.mark.django_db
def test_a_manager_of_no_brand_creates_one_then_starts_a_strategy_for_it(world, client_for, make_member):  # noqa: F811
    w = world
    newcomer = make_member(Role.SOCIAL_MEDIA_MANAGER, department=w["marketing"], username="nina")
    client = client_for(newcomer)
    assert offered(client.get("/strategy/new/").content.decode(), "brand") == set()
    assert client.post(NEW, {"name": "Initech", "slug": "initech"}).status_code == 302
    brand = Brand.objects.get(slug="initech")
    assert offered(client.get("/strategy/new/").content.decode(), "brand") == {brand.pk}
    response = client.post("/strategy/new/", {"brand": brand.pk, "title": "Initech 2027", "review_cadence_months": 3})
    assert response.status_code == 302
    strategy = Strategy.objects.get(title="Initech 2027")
    assert strategy.brand == brand and strategy.accountable == newcomer


# --- editing ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_manager_edits_accounts_and_managers_with_a_reason_through_the_real_url(world, make_member):  # noqa: F811
    w = world
    other_smm = make_member(Role.SOCIAL_MEDIA_MANAGER, department=w["marketing"], username="otto")
    second = SocialAccountFactory()
    client = csrf_client(w["smm"])
    data = {"description": "", "accounts": [w["account"].pk, second.pk], "managers": [w["smm"].pk, other_smm.pk]}
    assert client.post(edit_url(w["brand"]), {**data, "reason": "shared"}).status_code == 403  # no token
    token = token_of(client, edit_url(w["brand"]))
    response = client.post(edit_url(w["brand"]), {**data, "reason": "", "csrfmiddlewaretoken": token})
    assert response.status_code == 400 and field_error(response.content.decode(), "reason")
    assert Brand.objects.get(pk=w["brand"].pk).managers.count() == 1
    response = client.post(edit_url(w["brand"]), {**data, "reason": "Otto joins", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    brand = Brand.objects.get(pk=w["brand"].pk)
    assert set(brand.accounts.all()) == {w["account"], second}
    assert set(brand.managers.all()) == {w["smm"], other_smm}
    assert brand.history.filter(history_change_reason="Otto joins", history_user=w["smm"]).exists()
    event = AuditEvent.objects.get(action="strategy.brand_updated")
    sentence = describe_events([event])[0]["sentence"]
    assert sentence.startswith("Changed the brand Acme: accounts ") and "(reason: Otto joins)" in sentence
    assert str(other_smm) in sentence
    # The new manager may now edit it.
    assert sign_in(Client(), other_smm).get(edit_url(brand)).status_code == 200


@pytest.mark.django_db
def test_only_an_admin_removes_the_last_manager(world, client_for):  # noqa: F811
    w = world
    data = {"description": "", "accounts": [w["account"].pk], "reason": "handing over"}
    response = client_for(w["smm"]).post(edit_url(w["brand"]), data)
    assert response.status_code == 400 and field_error(response.content.decode(), "managers")
    assert list(Brand.objects.get(pk=w["brand"].pk).managers.all()) == [w["smm"]]
    assert not AuditEvent.objects.filter(action="strategy.brand_updated").exists()
    assert client_for(w["admin"]).post(edit_url(w["brand"]), data).status_code == 302
    assert not Brand.objects.get(pk=w["brand"].pk).managers.exists()
    html = client_for(w["admin"]).get(BRANDS).content.decode()
    assert "No manager" in html


@pytest.mark.django_db
def test_brand_update_refuses_inactive_accounts_non_managers_and_outsiders(world, make_member):  # noqa: F811
    w = world
    suspended = SocialAccountFactory(status="suspended")
    with pytest.raises(ValidationError) as refused:
        services.brand_update(actor=w["smm"], brand=w["brand"], reason="x", accounts=[w["account"], suspended])
    assert "accounts" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.brand_update(actor=w["smm"], brand=w["brand"], reason="x", managers=[w["smm"], w["marketer"]])
    assert "managers" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.brand_update(actor=w["smm"], brand=w["brand"], reason="  ", description="new")
    assert "reason" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        services.brand_update(actor=w["executive"], brand=w["brand"], reason="x", description="mine")
    brand = Brand.objects.get(pk=w["brand"].pk)
    assert set(brand.accounts.all()) == {w["account"]} and brand.description == ""
    # A description change alone is one version and one audit event; no change is neither.
    count = brand.history.count()
    services.brand_update(actor=w["smm"], brand=brand, reason="clearer", description="The Acme brand")
    services.brand_update(actor=w["smm"], brand=brand, reason="again", description="The Acme brand")
    assert Brand.objects.get(pk=brand.pk).description == "The Acme brand"
    assert brand.history.count() == count + 1
    assert AuditEvent.objects.filter(action="strategy.brand_updated").count() == 1


@pytest.mark.django_db
def test_the_api_updates_a_brand_through_the_service(world, api_for, make_member):  # noqa: F811
    w = world
    other_smm = make_member(Role.SOCIAL_MEDIA_MANAGER, department=w["marketing"], username="otto")
    path = f"/api/brands/{w['brand'].pk}/"
    assert api_for(other_smm).patch(path, {"managers": [other_smm.pk], "reason": "mine"},
                                    format="json").status_code == 403
    response = api_for(w["smm"]).patch(path, {"managers": [w["smm"].pk, other_smm.pk]}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    response = api_for(w["smm"]).patch(path, {"managers": [], "reason": "bye"}, format="json")
    assert response.status_code == 400 and "managers" in response.json()
    response = api_for(w["smm"]).patch(path, {"managers": [w["smm"].pk, other_smm.pk], "reason": "Otto joins"},
                                       format="json")
    assert response.status_code == 200
    assert set(Brand.objects.get(pk=w["brand"].pk).managers.all()) == {w["smm"], other_smm}


@pytest.mark.django_db
def test_resaving_the_form_unchanged_records_no_change(world, client_for):  # noqa: F811
    w = world
    client = client_for(w["smm"])
    data = {"description": "Line one\r\nLine two", "accounts": [w["account"].pk], "managers": [w["smm"].pk]}
    assert client.post(edit_url(w["brand"]), {**data, "reason": "described"}).status_code == 302
    assert Brand.objects.get(pk=w["brand"].pk).description == "Line one\nLine two"
    assert client.post(edit_url(w["brand"]), {**data, "reason": "again"}).status_code == 302
    assert AuditEvent.objects.filter(action="strategy.brand_updated").count() == 1


@pytest.mark.django_db
def test_the_api_creates_a_brand_only_with_active_channels_and_real_managers(api_for, make_member):
    from accounts.roles import Role
    from security.models import SocialAccount
    from strategy.models import Brand
    from tests.security.factories import SocialAccountFactory

    smm = make_member(Role.SOCIAL_MEDIA_MANAGER, username="sofia2")
    rep = make_member(Role.DEPARTMENT_REPRESENTATIVE, username="rita2")
    retired = SocialAccountFactory(status=SocialAccount.Status.RETIRED)
    api = api_for(smm)
    refused = api.post("/api/brands/", {"name": "Old", "slug": "old", "accounts": [retired.pk]}, format="json")
    assert refused.status_code == 400 and "accounts" in refused.json()
    refused = api.post("/api/brands/", {"name": "Rep", "slug": "rep", "managers": [rep.pk]}, format="json")
    assert refused.status_code == 400 and "managers" in refused.json()
    assert not Brand.objects.exists()
    created = api.post("/api/brands/", {"name": "New", "slug": "new"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["managers"] == [smm.pk]
