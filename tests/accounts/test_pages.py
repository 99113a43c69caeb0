import pytest
from django.urls import reverse

from accounts.models import Department, Membership, Workgroup
from accounts.roles import Role
from tests.accounts.factories import DepartmentFactory, MembershipFactory, UserFactory, WorkgroupFactory

ADMIN_PAGES = ["people-list", "person-create", "department-create", "workgroup-create"]


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["dashboard", "workgroup-list", "department-list", *ADMIN_PAGES])
def test_anonymous_is_sent_to_login(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ADMIN_PAGES)
def test_admin_pages_refuse_non_admins(make_member, client_for, url_name):
    for role in (Role.DEPARTMENT_REPRESENTATIVE, Role.EXECUTIVE, Role.SOCIAL_MEDIA_MANAGER):
        assert client_for(make_member(role)).get(reverse(url_name)).status_code == 403


@pytest.mark.django_db
def test_dashboard_shows_departments_workgroups_and_roles(client_for):
    user = UserFactory()
    service = DepartmentFactory(name="Customer service")
    workgroup = WorkgroupFactory(name="Brand & Care")
    MembershipFactory(user=user, department=service, workgroup=workgroup, role=Role.DEPARTMENT_REPRESENTATIVE)
    MembershipFactory(user=user, department=service, workgroup=workgroup, role=Role.COMMUNITY_MANAGER)
    html = client_for(user).get(reverse("dashboard")).content.decode()
    assert "Customer service" in html
    assert "Brand &amp; Care" in html
    assert "Department representative" in html and "Community manager" in html


@pytest.mark.django_db
def test_navigation_shows_only_what_the_role_allows(make_member, client_for, admin_user):
    rep_html = client_for(make_member()).get(reverse("dashboard")).content.decode()
    assert reverse("people-list") not in rep_html
    admin_html = client_for(admin_user).get(reverse("dashboard")).content.decode()
    assert reverse("people-list") in admin_html


@pytest.mark.django_db
def test_workgroup_of_others_is_404(make_member, client_for):
    mine, theirs = WorkgroupFactory(), WorkgroupFactory()
    user = make_member(workgroup=mine)
    assert client_for(user).get(reverse("workgroup-detail", args=[mine.slug])).status_code == 200
    assert client_for(user).get(reverse("workgroup-detail", args=[theirs.slug])).status_code == 404


@pytest.mark.django_db
def test_executive_sees_supervised_workgroup_members_by_department(make_member, client_for):
    workgroup = WorkgroupFactory(name="Brand")
    executive = make_member(Role.EXECUTIVE)
    workgroup.supervisors.add(executive)
    sales, legal = DepartmentFactory(name="Sales"), DepartmentFactory(name="Legal")
    make_member(workgroup=workgroup, department=sales, first_name="Sven", last_name="S")
    make_member(workgroup=workgroup, department=legal, first_name="Leo", last_name="L")
    response = client_for(executive).get(reverse("workgroup-detail", args=[workgroup.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Legal") < html.index("Leo L") < html.index("Sales") < html.index("Sven S")
    assert 'data-testid="single-department"' not in html
    dashboard = client_for(executive).get(reverse("dashboard")).content.decode()
    assert "Workgroups I supervise" in dashboard and "Brand" in dashboard


@pytest.mark.django_db
def test_single_department_workgroup_is_flagged(make_member, client_for, admin_user):
    workgroup = WorkgroupFactory()
    make_member(workgroup=workgroup, department=DepartmentFactory(name="Marketing"))
    html = client_for(admin_user).get(reverse("workgroup-detail", args=[workgroup.slug])).content.decode()
    assert "Owned by one department" in html


@pytest.mark.django_db
def test_admin_builds_a_workgroup_through_the_pages(admin_user, make_member, client_for):
    client = client_for(admin_user)
    executive = make_member(Role.EXECUTIVE)
    response = client.post(reverse("department-create"), {"name": "Procurement"})
    assert response.status_code == 302
    department = Department.objects.get(name="Procurement")
    response = client.post(reverse("workgroup-create"), {"name": "Social desk", "supervisors": [executive.pk]})
    workgroup = Workgroup.objects.get(name="Social desk")
    assert response["Location"] == reverse("workgroup-detail", args=[workgroup.slug])
    person = UserFactory()
    response = client.post(reverse("membership-add"), {
        "user": person.pk, "department": department.pk, "workgroup": workgroup.pk,
        "role": Role.COMMUNITY_MANAGER, "next": reverse("workgroup-detail", args=[workgroup.slug]),
    })
    assert response.status_code == 302
    assert Membership.objects.active().filter(user=person, workgroup=workgroup).exists()


@pytest.mark.django_db
def test_bad_membership_input_is_a_400_naming_the_field(admin_user, client_for):
    response = client_for(admin_user).post(reverse("membership-add"), {
        "user": UserFactory().pk, "department": DepartmentFactory().pk, "role": Role.SPECIALIST,
    })
    assert response.status_code == 400
    assert 'data-field="workgroup"' in response.content.decode()
    response = client_for(admin_user).post(reverse("membership-add"), {"user": "nope", "role": "wizard"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="role"' in html and 'data-field="department"' in html


@pytest.mark.django_db
def test_offsite_next_is_ignored(admin_user, client_for):
    wg = WorkgroupFactory()
    response = client_for(admin_user).post(reverse("membership-add"), {
        "user": UserFactory().pk, "department": DepartmentFactory().pk, "workgroup": wg.pk,
        "role": Role.SPECIALIST, "next": "https://evil.example/",
    })
    assert response["Location"] == reverse("people-list")


@pytest.mark.django_db
def test_admin_ends_a_role(admin_user, client_for):
    membership = MembershipFactory()
    response = client_for(admin_user).post(reverse("membership-end", args=[membership.pk]))
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.ended_at is not None and not membership.is_active


@pytest.mark.django_db
def test_untrusted_names_are_escaped(admin_user, client_for):
    UserFactory(first_name="<script>alert(1)</script>", last_name="X")
    html = client_for(admin_user).get(reverse("people-list")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.django_db
def test_people_page_query_count_is_fixed(admin_user, client_for, django_assert_max_num_queries):
    client = client_for(admin_user)
    for _ in range(3):
        MembershipFactory()
    client.get(reverse("people-list"))
    with django_assert_max_num_queries(14) as few:
        client.get(reverse("people-list"))
    for _ in range(20):
        MembershipFactory()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("people-list"))
