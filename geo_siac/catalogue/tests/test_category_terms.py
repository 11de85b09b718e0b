"""The terms a category is offered on (catalogue.terms): at least one business day, at most the sane and the legal
maximum, and a department for what citizens can choose, the same in the admin, a comuna's terms, the loader and the
database."""

import importlib
from io import StringIO

import pytest
from django.apps import apps as django_apps
from django.contrib.messages import get_messages
from django.core import checks
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from geo_siac.catalogue import catalogue
from geo_siac.catalogue.attributes import DATATYPES
from geo_siac.catalogue.checks import terms_outside_the_rule
from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Category, CategoryGroup, Department
from geo_siac.zones.checks import commune_terms_outside_the_rule
from geo_siac.zones.models import CommuneCategory

ADD = "/admin/catalogue/category/add/"


def fallen_tree(**changes) -> dict:
    """The admin's add form as the walk filled it: "Árbol caído en la vía", 0 days, no department."""
    form = {
        "service_code": "arbol-caido",
        "kind": RequestKind.SERVICE_REQUEST,
        "group": CategoryGroup.objects.get(code="aseo-ornato").pk,
        "name_es": "Árbol caído en la vía",
        "response_days": "0",
        "department": "",
        "is_public": "on",
        "is_active": "on",
        "duplicate_radius_m": "50",
        "attributes": "[]",
    }
    return form | changes


def category(**changes) -> Category:
    values = {
        "service_code": "arbol-caido",
        "group": CategoryGroup.objects.get(code="aseo-ornato"),
        "name_es": "Árbol caído en la vía",
        "response_days": 5,
        "department": Department.objects.get(name=catalogue.DMAAO),
    }
    return Category(**values | changes)


def errors_of(candidate) -> dict:
    with pytest.raises(ValidationError) as refused:
        candidate.full_clean()
    return refused.value.message_dict


@pytest.mark.parametrize("days", [0, 61])
def test_a_term_outside_one_to_sixty_business_days_is_refused_naming_the_field(db, days):
    (message,) = errors_of(category(response_days=days))["response_days"]
    assert message.startswith("El plazo de respuesta (días hábiles)")


def test_a_topic_of_a_kind_with_a_legal_term_keeps_to_it(db):
    complaint = category(kind=RequestKind.COMPLAINT, response_days=30)
    assert errors_of(complaint)["response_days"] == ["La ley fija un máximo de 20 días hábiles (Ley 19.880, art. 24)."]
    information = category(kind=RequestKind.INFORMATION, response_days=10)
    assert "Ley 20.285 es de 20 días hábiles" in errors_of(information)["response_days"][0]
    category(kind=RequestKind.INFORMATION, response_days=20).full_clean()


def test_a_public_category_without_a_department_is_refused_and_a_hidden_one_is_not(db):
    (message,) = errors_of(category(department=None))["department"]
    assert "necesita una unidad responsable" in message
    category(department=None, is_public=False).full_clean()
    category(department=None, is_active=False).full_clean()


def test_the_admin_refuses_the_walks_fallen_tree_with_both_errors_and_saves_nothing(admin_client):
    response = admin_client.post(ADD, fallen_tree())
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["response_days"][0].startswith("El plazo de respuesta (días hábiles) debe ser de al menos 1")
    assert "necesita una unidad responsable" in errors["department"][0]
    page = response.content.decode()
    assert "debe ser de al menos 1 día hábil" in page and "necesita una unidad responsable" in page
    assert not Category.objects.filter(service_code="arbol-caido").exists()


def test_the_database_refuses_zero_days_written_around_the_model(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.filter(service_code="bache").update(response_days=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Category.objects.filter(service_code="bache").update(response_days=61)
    assert Category.objects.get(service_code="bache").response_days == 20


def test_a_comunas_terms_follow_the_same_rule(communes):
    debris = Category.objects.get(service_code="retiro-escombros")
    terms = CommuneCategory(commune=communes["13201"], category=debris, response_days=0)
    assert errors_of(terms)["response_days"][0].startswith("El plazo de respuesta (días hábiles)")
    # A category saved without a department before the rule: the comuna must name one to offer it.
    Category.objects.filter(pk=debris.pk).update(department=None)
    debris.refresh_from_db()
    assert (
        "necesita una unidad responsable"
        in errors_of(CommuneCategory(commune=communes["13201"], category=debris))["department"][0]
    )
    CommuneCategory(commune=communes["13201"], category=debris, enabled=False).full_clean()
    own = Department.objects.get(name=catalogue.DOM)
    CommuneCategory(commune=communes["13201"], category=debris, department=own, response_days=3).full_clean()


def test_the_loader_refuses_a_default_category_the_admin_would_refuse(db, monkeypatch):
    zero_days = ("arbol-caido", "aseo-ornato", "Árbol caído", "", "", "", "", 0, catalogue.DMAAO, [])
    monkeypatch.setattr(catalogue, "CATEGORIES", [*catalogue.CATEGORIES, zero_days])
    with pytest.raises(CommandError, match="arbol-caido: El plazo de respuesta"):
        call_command("load_categories", "--commit", stdout=StringIO())
    assert not Category.objects.filter(service_code="arbol-caido").exists()


def test_the_default_catalogue_keeps_the_rule(db):
    call_command("load_categories", "--reset", "--commit", stdout=StringIO())
    for each in Category.objects.all():
        each.full_clean()


def test_the_admin_explains_the_json_and_the_code_it_expects(admin_client):
    page = admin_client.get(ADD).content.decode()
    assert "Solo minúsculas, números y guiones" in page
    assert "Una lista JSON de preguntas" in page and '"datatype": "singlevaluelist"' in page
    response = admin_client.post(ADD, fallen_tree(service_code="Árbol caído!", attributes="{riesgo: alto}"))
    errors = response.context["adminform"].form.errors
    assert errors["service_code"] == [
        "Use solo minúsculas, números y guiones, sin tildes ni espacios (p. ej. arbol-caido)."
    ]
    assert errors["attributes"][0].startswith("No es un JSON válido. Se espera una lista de preguntas")
    capitals = admin_client.post(ADD, fallen_tree(service_code="Arbol_Caido", response_days="5"))
    assert capitals.context["adminform"].form.errors["service_code"][0].startswith("Use solo minúsculas")


def test_saving_in_the_admin_says_so_without_a_wrong_article(admin_client):
    department = Department.objects.get(name=catalogue.DMAAO).pk
    response = admin_client.post(ADD, fallen_tree(response_days="2", department=department), follow=True)
    saved = Category.objects.get(service_code="arbol-caido")
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Se guardó «Árbol caído en la vía» (categoría)."]
    assert "El categoría" not in response.content.decode()
    change = f"/admin/catalogue/category/{saved.pk}/change/"
    response = admin_client.post(change, fallen_tree(response_days="3", department=department), follow=True)
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Se guardó «Árbol caído en la vía» (categoría)."]
    response = admin_client.post(f"/admin/catalogue/category/{saved.pk}/delete/", {"post": "yes"}, follow=True)
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Se eliminó «Árbol caído en la vía» (categoría)."]


def test_a_comunas_row_is_told_to_untick_its_own_field_not_the_categorys(communes):
    debris = Category.objects.get(service_code="retiro-escombros")
    Category.objects.filter(pk=debris.pk).update(department=None)
    debris.refresh_from_db()
    (message,) = errors_of(CommuneCategory(commune=communes["13201"], category=debris))["department"]
    assert message.endswith("desmarque «se atiende en la comuna».")
    assert "visible para la ciudadanía" not in message
    (own,) = errors_of(category(department=None))["department"]
    assert own.endswith("desmarque «visible para la ciudadanía».")


def migration(app: str, name: str):
    return importlib.import_module(f"geo_siac.{app}.migrations.{name}")


def without_constraint(model, name: str) -> None:
    # DDL is transactional in PostgreSQL: the test's transaction brings the constraint back.
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{model._meta.db_table}" DROP CONSTRAINT "{name}"')


def test_the_migration_turns_zero_days_into_one_and_prints_each_row(db, capsys):
    without_constraint(Category, "category_response_days_in_range")
    Category.objects.filter(service_code="bache").update(response_days=0)
    migration("catalogue", "0009_response_days_range").into_range(django_apps, None)
    assert Category.objects.get(service_code="bache").response_days == 1
    assert "catalogue.Category bache: response_days 0 -> 1" in capsys.readouterr().out


def test_the_migration_refuses_more_than_sixty_days_listing_them_and_changes_nothing(db):
    without_constraint(Category, "category_response_days_in_range")
    Category.objects.filter(service_code="bache").update(response_days=90)
    Category.objects.filter(service_code="retiro-escombros").update(response_days=0)
    with pytest.raises(RuntimeError, match=r"más de 60 días hábiles de plazo: bache \(90 días\)\."):
        migration("catalogue", "0009_response_days_range").into_range(django_apps, None)
    assert Category.objects.get(service_code="bache").response_days == 90
    assert Category.objects.get(service_code="retiro-escombros").response_days == 0


def test_the_comunas_migration_refuses_more_than_sixty_days_listing_comuna_code_and_days(communes):
    without_constraint(CommuneCategory, "commune_category_days_in_range")
    debris = Category.objects.get(service_code="retiro-escombros")
    CommuneCategory.objects.create(commune=communes["13201"], category=debris, response_days=5)
    CommuneCategory.objects.filter(category=debris).update(response_days=75)
    name = communes["13201"].name
    with pytest.raises(RuntimeError, match=rf"{name} · retiro-escombros \(75 días\)"):
        migration("zones", "0016_commune_category_days_range").into_range(django_apps, None)
    assert CommuneCategory.objects.get(category=debris).response_days == 75


def test_the_checks_list_rows_saved_before_the_rule(communes):
    assert terms_outside_the_rule(databases=["default"]) == []
    assert commune_terms_outside_the_rule(databases=["default"]) == []
    complaint = Category.objects.filter(kind=RequestKind.COMPLAINT).order_by("service_code").first()
    Category.objects.filter(pk=complaint.pk).update(response_days=30)
    (warning,) = terms_outside_the_rule(databases=["default"])
    assert warning.id == "catalogue.W001" and isinstance(warning, checks.Warning)
    assert complaint.service_code in warning.msg and "máximo de 20 días hábiles" in warning.msg
    assert terms_outside_the_rule(databases=None) == []
    Category.objects.filter(pk=complaint.pk).update(response_days=20)
    CommuneCategory.objects.create(commune=communes["13201"], category=complaint, response_days=10)
    CommuneCategory.objects.filter(category=complaint).update(response_days=25)
    (warning,) = commune_terms_outside_the_rule(databases=["default"])
    assert warning.id == "zones.W001"
    assert communes["13201"].name in warning.msg and complaint.service_code in warning.msg


def test_the_questions_help_lists_the_types_the_validator_accepts():
    help_text = str(Category._meta.get_field("attributes").help_text)
    assert help_text.endswith(f"Tipos: {', '.join(sorted(DATATYPES))}.")
    assert '[{"code": "riesgo"' in help_text
