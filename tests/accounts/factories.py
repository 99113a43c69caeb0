import factory
from django.utils import timezone

from accounts.models import Department, Membership, User, Workgroup
from accounts.roles import Role
from accounts.services import sync_department_groups

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Department {n}")
    slug = factory.Sequence(lambda n: f"department-{n}")


class WorkgroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workgroup
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Workgroup {n}")
    slug = factory.Sequence(lambda n: f"workgroup-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    department = factory.SubFactory(DepartmentFactory)
    workgroup = factory.SubFactory(WorkgroupFactory)
    role = Role.DEPARTMENT_REPRESENTATIVE
    started_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=1))

    @factory.post_generation
    def department_group(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            sync_department_groups(obj.user)
