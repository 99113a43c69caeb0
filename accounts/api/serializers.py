from rest_framework import serializers

from ..models import Department, Membership, User, Workgroup
from ..roles import Role


class UserSummarySerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name"]


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "time_zone", "roles"]
        read_only_fields = ["id", "username", "roles"]

    def get_roles(self, obj) -> list[str]:
        return sorted(set(obj.memberships.active().values_list("role", flat=True)))


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "name", "slug", "description", "is_specialist_team", "lead"]
        read_only_fields = ["id", "slug"]


class WorkgroupSerializer(serializers.ModelSerializer):
    supervisors = serializers.PrimaryKeyRelatedField(many=True, queryset=User.objects.filter(is_active=True),
                                                     required=False)

    class Meta:
        model = Workgroup
        fields = ["id", "name", "slug", "description", "supervisors"]
        read_only_fields = ["id", "slug"]


class MembershipSerializer(serializers.ModelSerializer):
    role = serializers.ChoiceField(choices=Role.choices)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "department", "workgroup", "role", "started_at", "ended_at", "is_active"]
        read_only_fields = ["id", "is_active"]
