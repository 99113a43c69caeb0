import pytest

from accounts.models import ApiToken, Department, Membership
from accounts.roles import Role
from tests.accounts.factories import DepartmentFactory, MembershipFactory, UserFactory, WorkgroupFactory


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/me/", "/api/departments/", "/api/workgroups/", "/api/memberships/"])
def test_anonymous_gets_401(api_for, path):
    assert api_for().get(path).status_code == 401


@pytest.mark.django_db
def test_token_authentication(api_for, make_member):
    user = make_member()
    _token, plaintext = ApiToken.objects.create(user=user, name="script")
    client = api_for()
    client.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    response = client.get("/api/me/")
    assert response.status_code == 200 and response.json()["username"] == user.username
    assert response.json()["roles"] == [Role.DEPARTMENT_REPRESENTATIVE]


@pytest.mark.django_db
def test_members_see_only_their_workgroups(api_for, make_member):
    mine, theirs = WorkgroupFactory(), WorkgroupFactory()
    user = make_member(workgroup=mine)
    client = api_for(user)
    listed = [w["id"] for w in client.get("/api/workgroups/").json()["results"]]
    assert listed == [mine.pk]
    assert client.get(f"/api/workgroups/{theirs.pk}/").status_code == 404
    other_membership = MembershipFactory(workgroup=theirs)
    assert client.get(f"/api/memberships/{other_membership.pk}/").status_code == 404


@pytest.mark.django_db
def test_members_read_but_do_not_write(api_for, make_member):
    client = api_for(make_member(Role.SOCIAL_MEDIA_MANAGER))
    assert client.get("/api/departments/").status_code == 200
    assert client.post("/api/departments/", {"name": "Procurement"}).status_code == 403
    assert not Department.objects.filter(name="Procurement").exists()


@pytest.mark.django_db
def test_admin_writes_structure(api_for, admin_user, make_member):
    client = api_for(admin_user)
    response = client.post("/api/departments/", {"name": "Procurement"}, format="json")
    assert response.status_code == 201, response.content
    department_id = response.json()["id"]
    executive = make_member(Role.EXECUTIVE)
    response = client.post("/api/workgroups/", {"name": "Social", "supervisors": [executive.pk]}, format="json")
    assert response.status_code == 201, response.content
    workgroup_id = response.json()["id"]
    person = UserFactory()
    response = client.post("/api/memberships/", {"user": person.pk, "department": department_id,
                                                  "workgroup": workgroup_id, "role": "specialist"}, format="json")
    assert response.status_code == 201, response.content
    membership_id = response.json()["id"]
    response = client.post(f"/api/memberships/{membership_id}/end/")
    assert response.status_code == 200 and response.json()["is_active"] is False


@pytest.mark.django_db
def test_bad_input_is_400_naming_the_field(api_for, admin_user):
    client = api_for(admin_user)
    response = client.post("/api/memberships/", {"user": UserFactory().pk, "department": DepartmentFactory().pk,
                                                 "role": "specialist"}, format="json")
    assert response.status_code == 400
    assert "workgroup" in response.json()
    response = client.post("/api/memberships/", {"role": "wizard"}, format="json")
    assert response.status_code == 400
    assert {"role", "user", "department"} <= set(response.json())
    response = client.post("/api/workgroups/", {"name": "x", "supervisors": [UserFactory().pk]}, format="json")
    assert response.status_code == 400 and "supervisors" in response.json()


@pytest.mark.django_db
def test_membership_list_query_count_does_not_grow(api_for, admin_user, django_assert_num_queries):
    client = api_for(admin_user)
    for _ in range(3):
        MembershipFactory()
    response = client.get("/api/memberships/?page_size=2")
    assert response.status_code == 200
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get("/api/memberships/?page_size=2")
    for _ in range(30):
        MembershipFactory()
    with django_assert_num_queries(len(small.captured_queries)):
        body = client.get("/api/memberships/?page_size=30").json()
    assert len(body["results"]) == 30 and body["next"]


@pytest.mark.django_db
def test_membership_filter_active(api_for, admin_user):
    ended = MembershipFactory()
    from django.utils import timezone

    Membership.objects.filter(pk=ended.pk).update(ended_at=timezone.now())
    ids = {m["id"] for m in api_for(admin_user).get("/api/memberships/?active=true&page_size=200").json()["results"]}
    assert ended.pk not in ids


@pytest.mark.django_db
def test_schema_and_docs_are_served(api_for, make_member):
    client = api_for(make_member())
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/memberships/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


@pytest.mark.django_db
def test_people_edit_their_own_profile_but_not_their_username(api_for, make_member):
    user = make_member()
    client = api_for(user)
    response = client.patch("/api/me/", {"time_zone": "Europe/Madrid", "username": "someone-else"}, format="json")
    assert response.status_code == 200 and response.json()["time_zone"] == "Europe/Madrid"
    user.refresh_from_db()
    assert user.username != "someone-else" and user.time_zone == "Europe/Madrid"
    response = client.patch("/api/me/", {"time_zone": "Mars/Olympus"}, format="json")
    assert response.status_code == 400 and "time_zone" in response.json()
