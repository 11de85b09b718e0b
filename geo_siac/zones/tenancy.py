"""The one scoping rule of a many-municipality installation (docs/staff-accounts.md, "Muchas comunas"): a staff
account sees and changes only what belongs to the comunas it is a member of (`CommuneMembership`); a superuser
sees every comuna; an account with no membership sees nothing. Every tenant-owned model's QuerySet has
`for_staff(user)`, and every staff read goes through it."""

from django.contrib.auth import get_user_model
from django.db import models
from django.http import Http404
from django.utils.translation import gettext as _


def staff_commune_ids(user) -> frozenset[int] | None:
    """The pks of the comunas the person works for; None for a superuser (every comuna). Read once per user object,
    as `roles.group_names`: one request asks it for each list it shows."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return None
    try:
        return user._geo_siac_communes
    except AttributeError:
        from geo_siac.zones.models import CommuneMembership

        user._geo_siac_communes = frozenset(
            CommuneMembership.objects.filter(user=user).values_list("commune_id", flat=True)
        )
        return user._geo_siac_communes


def may_see_commune(user, commune_id: int | None) -> bool:
    ids = staff_commune_ids(user)
    return ids is None or commune_id in ids


def in_communes(queryset, path: str, ids):
    """`queryset` narrowed to the comunas `ids` through `path`. None of them matches nothing, by a condition
    PostgreSQL answers: `.none()` cannot be compiled to SQL, which the maps compile by hand."""
    if not ids:
        return queryset.filter(pk__isnull=True)
    # The pks go to PostgreSQL as values (not a subquery), so it can use the comuna's index and statistics.
    return queryset.filter(**{f"{path}__in": sorted(ids)})


class TenantQuerySet(models.QuerySet):
    """A QuerySet of a model owned by a comuna; `tenant_path` is the lookup from the model to its Commune."""

    tenant_path = "commune"

    def for_staff(self, user):
        ids = staff_commune_ids(user)
        return self if ids is None else in_communes(self, self.tenant_path, ids)


# From an account to the comunas it works for: staff accounts are the comunas' too.
USER_PATH = "commune_memberships__commune"


def scoped(queryset, user, path: str | None = None):
    """`queryset.for_staff(user)`, or for a model whose QuerySet has none, the same rule through `path` to its
    comuna."""
    if path is None:
        return queryset.for_staff(user)
    ids = staff_commune_ids(user)
    return queryset if ids is None else in_communes(queryset, path, ids)


def managed_accounts(user):
    """The accounts a comuna's administrator manages in the admin: non-superusers working for one of its comunas
    and for none other (an account also of Peñalolén is Peñalolén's too, so Puente Alto's alone cannot change its
    password or roles). Every account for a superuser."""
    from geo_siac.zones.models import CommuneMembership

    accounts = get_user_model().objects.all()
    ids = staff_commune_ids(user)
    if ids is None:
        return accounts
    elsewhere = CommuneMembership.objects.exclude(commune_id__in=sorted(ids)).values("user_id")
    inside = CommuneMembership.objects.filter(commune_id__in=sorted(ids)).values("user_id")
    return accounts.filter(is_superuser=False, pk__in=inside).exclude(pk__in=elsewhere)


class TenantAdmin:
    """A ModelAdmin (or inline) mixin: its changelist, change pages and the choices of its foreign keys hold only
    the objects of the comunas the person works for. `tenant_path` for a model whose QuerySet has no for_staff;
    `account_path` for rows an account owns (the account itself: "pk"), which follow `managed_accounts`."""

    tenant_path: str | None = None
    account_path: str | None = None

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.account_path is None:
            return scoped(queryset, request.user, self.tenant_path)
        if staff_commune_ids(request.user) is None:
            return queryset
        return queryset.filter(**{f"{self.account_path}__in": managed_accounts(request.user)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return self._scoped_field(super().formfield_for_foreignkey(db_field, request, **kwargs), request)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return self._scoped_field(super().formfield_for_manytomany(db_field, request, **kwargs), request)

    def get_object(self, request, object_id, from_field=None):
        """404 for an object outside the person's comunas (Django's admin would redirect to its index instead)."""
        found = super().get_object(request, object_id, from_field)
        if found is None:
            raise Http404(_("No existe o no es de una comuna que atienda su cuenta."))
        return found

    def _scoped_field(self, field, request):
        queryset = getattr(field, "queryset", None)
        if queryset is None:
            return field
        if hasattr(queryset, "for_staff"):
            field.queryset = queryset.for_staff(request.user)
        elif queryset.model is get_user_model() and self.account_path is not None:
            field.queryset = queryset.filter(pk__in=managed_accounts(request.user))
        elif queryset.model is get_user_model():
            field.queryset = scoped(queryset, request.user, USER_PATH).distinct()
        return field
