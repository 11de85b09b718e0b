from io import StringIO

from django.core.management import call_command

from geo_siac.catalogue.models import Category, Department


def test_reset_links_each_category_to_the_department_of_its_name_without_duplicates(db):
    Category.objects.filter(service_code="bache").update(department=None)
    out = StringIO()
    call_command("load_categories", "--reset", "--commit", stdout=out)
    assert "restablecidas: 18" in out.getvalue()  # 12 service categories and the 6 topics of other kinds
    assert Category.objects.get(service_code="bache").department.name == "Dirección de Obras Municipales"
    assert Category.objects.get(service_code="otro").department.name == (
        "Oficina de Informaciones, Reclamos y Sugerencias (OIRS)"
    )
    assert Department.objects.filter(name="Dirección de Obras Municipales").count() == 1
    topic = Category.objects.get(service_code="acceso-informacion")
    assert (topic.kind, topic.department.name) == ("information", "Unidad de Transparencia Municipal")


def test_a_department_renamed_in_the_admin_is_not_recreated_by_a_reload(db):
    Department.objects.filter(name="Dirección de Obras Municipales").update(name="Dirección de Obras")
    call_command("load_categories", "--commit", stdout=StringIO())
    assert not Department.objects.filter(name="Dirección de Obras Municipales").exists()
    assert Category.objects.get(service_code="bache").department.name == "Dirección de Obras"
