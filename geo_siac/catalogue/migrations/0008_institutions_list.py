"""The bodies a municipality most often refers requests to (docs/request-kinds.md, "Derivar"). Its own copy of the
list, as it was; names already present are left as the municipality edited them. The contact texts are a starting
point for the municipality to check in the admin."""

from django.db import migrations

INSTITUTIONS = [
    (
        "Servicio de Registro Civil e Identificación",
        "https://www.registrocivil.cl",
        "Certificados, cédula, pasaporte, posesiones efectivas: registrocivil.cl, sus oficinas o el 600 370 2000.",
    ),
    (
        "Servicio Nacional del Consumidor (SERNAC)",
        "https://www.sernac.cl",
        "Reclamos contra empresas y comercios: formulario en sernac.cl o el 800 700 100.",
    ),
    (
        "Carabineros de Chile",
        "https://www.carabineros.cl",
        "Emergencias al 133; denuncias en la comisaría más cercana.",
    ),
    (
        "Policía de Investigaciones (PDI)",
        "https://www.pdichile.cl",
        "Denuncias de delitos en cualquier cuartel de la PDI; emergencias al 134.",
    ),
    (
        "SERVIU Metropolitano",
        "https://www.serviumetropolitano.cl",
        "Subsidios habitacionales, pavimentación y viviendas sociales: serviumetropolitano.cl o sus oficinas.",
    ),
    (
        "Instituto de Previsión Social (IPS) y ChileAtiende",
        "https://www.chileatiende.gob.cl",
        "Pensiones, PGU y bonos del Estado: sucursales ChileAtiende, chileatiende.gob.cl o el 101.",
    ),
    (
        "Fondo Nacional de Salud (Fonasa)",
        "https://www.fonasa.gob.cl",
        "Afiliación, bonos y atención de salud pública: fonasa.gob.cl, sus sucursales o el 600 360 3000.",
    ),
    (
        "Superintendencia de Salud",
        "https://www.supersalud.gob.cl",
        "Reclamos contra isapres, Fonasa o prestadores de salud: supersalud.gob.cl o el 600 836 9000.",
    ),
    (
        "Dirección del Trabajo",
        "https://www.dt.gob.cl",
        "Denuncias laborales, finiquitos y consultas de trabajadores y empleadores: dt.gob.cl o el 600 450 4000.",
    ),
    (
        "Corporación de Asistencia Judicial",
        "https://www.cajmetro.cl",
        "Orientación y representación legal gratuita: consultorios jurídicos de la Corporación (cajmetro.cl).",
    ),
    (
        "Poder Judicial",
        "https://www.pjud.cl",
        "Causas judiciales y trámites en tribunales: oficina judicial virtual en pjud.cl.",
    ),
    (
        "Contraloría General de la República",
        "https://www.contraloria.cl",
        "Denuncias sobre el uso de recursos públicos o actos de la administración: portal ciudadano en contraloria.cl.",
    ),
    (
        "Consejo para la Transparencia",
        "https://www.consejotransparencia.cl",
        "Amparos por acceso a información pública (Ley 20.285) y reclamos de transparencia: consejotransparencia.cl.",
    ),
    (
        "Superintendencia de Electricidad y Combustibles (SEC)",
        "https://www.sec.cl",
        "Reclamos por cortes de luz, gas o combustibles: sec.cl o el 600 6000 732.",
    ),
    (
        "Servicio de Impuestos Internos (SII)",
        "https://www.sii.cl",
        "Impuestos, avalúos y contribuciones: sii.cl o sus oficinas.",
    ),
]


def add_institutions(apps, schema_editor):
    Institution = apps.get_model("catalogue", "Institution")
    for name, website, contact in INSTITUTIONS:
        Institution.objects.get_or_create(name=name, defaults={"website": website, "contact": contact})


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0007_institutions"),
    ]

    operations = [
        migrations.RunPython(add_institutions, migrations.RunPython.noop),
    ]
