"""The demo's service points and procedures (issue #25): Puente Alto's municipal building with its monthly night
session and Peñalolén's OIRS. Sample content for the demo, not an official list of requirements or fees."""

from django.contrib.gis.geos import Point
from django.db import transaction

from geo_siac.attention.models import Offering, Procedure
from geo_siac.geo import STORAGE_SRID
from geo_siac.zones.models import Commune, ServicePoint, ServicePointKind
from geo_siac.zones.opening_hours import validate_opening_hours

SOURCE = "geo_siac-demo"
WEEKDAYS_MORNING = {day: [["08:30", "14:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}

POINTS = [
    {
        "source_id": "puente-alto-edificio-consistorial",
        "cut": "13201",
        "name": "Municipalidad de Puente Alto, edificio consistorial",
        "kind": ServicePointKind.MUNICIPAL_OFFICE,
        "address": "Av. Concha y Toro 1820, Puente Alto",
        "lat": -33.6106,
        "lng": -70.5759,
        "accessibility": "Acceso a nivel por Av. Concha y Toro; ascensor.",
        "opening_hours": {
            "weekly": WEEKDAYS_MORNING,
            "closed_on_public_holidays": True,
            "special_sessions": [
                {"weekday": "thu", "nth": 1, "hours": [["19:00", "22:30"]], "label": "Atención Nocturna"}
            ],
        },
    },
    {
        "source_id": "penalolen-oirs",
        "cut": "13122",
        "name": "OIRS de Peñalolén",
        "kind": ServicePointKind.OIRS,
        "address": "Av. Grecia 8735, Peñalolén",
        "lat": -33.4687,
        "lng": -70.5571,
        "accessibility": "",
        "opening_hours": {"weekly": WEEKDAYS_MORNING, "closed_on_public_holidays": True},
    },
]

PROCEDURES = [
    {
        "slug": "permiso-de-circulacion",
        "name": "Permiso de circulación",
        "summary": "Pago anual del permiso para circular de un vehículo inscrito en la comuna.",
        "requirements": "Certificado de revisión técnica vigente\nSeguro obligatorio (SOAP) vigente\n"
        "Permiso del año anterior",
        "cost": "Según la tasación fiscal del vehículo (tabla del SII)",
        "legal_deadline": "Se entrega en el acto",
        "responsible": "Dirección de Tránsito y Transporte Público",
    },
    {
        "slug": "registro-social-de-hogares",
        "name": "Registro Social de Hogares",
        "summary": "Ingreso, actualización o rectificación de la información de su hogar.",
        "requirements": "Cédula de identidad de quien solicita\nCédulas de los integrantes del hogar",
        "cost": "Gratuito",
        "legal_deadline": "Según la solicitud; el seguimiento se consulta en línea",
        "online_url": "https://www.registrosocial.gob.cl/",
        "responsible": "Dirección de Desarrollo Comunitario",
    },
    {
        "slug": "patente-comercial",
        "name": "Patente comercial",
        "summary": "Autorización para ejercer una actividad comercial en un local de la comuna.",
        "requirements": "Inicio de actividades ante el SII\nAcreditación del uso del local\n"
        "Informe de zonificación de la Dirección de Obras",
        "cost": "Entre 2,5 y 5 por mil del capital propio (Ley de Rentas Municipales)",
        "legal_deadline": "Según la revisión de los antecedentes",
        "responsible": "Departamento de Rentas y Patentes",
    },
    {
        "slug": "certificado-de-residencia",
        "name": "Certificado de residencia",
        "summary": "Certificado que acredita su domicilio en la comuna.",
        "requirements": "Cédula de identidad\nComprobante de domicilio (cuenta de un servicio básico)",
        "cost": "Gratuito",
        "legal_deadline": "Se entrega en el acto",
        "responsible": "Oficina de Partes",
    },
    {
        "slug": "reclamo-o-sugerencia-oirs",
        "name": "Reclamo, sugerencia o felicitación (OIRS)",
        "summary": "Ingreso de un reclamo, sugerencia o felicitación a la municipalidad.",
        "requirements": "Cédula de identidad\nDescripción de lo ocurrido",
        "cost": "Gratuito",
        "legal_deadline": "Respuesta dentro del plazo de la Ley 19.880",
        "responsible": "Oficina de Informaciones, Reclamos y Sugerencias",
    },
]

# (point source_id, procedure slug, responsible at the point, minutes per slot, people per slot)
OFFERINGS = [
    ("puente-alto-edificio-consistorial", "permiso-de-circulacion", "Dirección de Tránsito, módulo 3", 15, 2),
    ("puente-alto-edificio-consistorial", "registro-social-de-hogares", "DIDECO, oficina de RSH", 30, 2),
    ("puente-alto-edificio-consistorial", "patente-comercial", "Departamento de Rentas", 30, 1),
    ("puente-alto-edificio-consistorial", "certificado-de-residencia", "Oficina de Partes", 15, 3),
    ("penalolen-oirs", "reclamo-o-sugerencia-oirs", "Encargada OIRS", 20, 1),
    ("penalolen-oirs", "certificado-de-residencia", "OIRS, mesón de atención", 15, 2),
]


@transaction.atomic
def seed_attention_demo() -> dict[str, int]:
    """Create or update the demo's points, procedures and offerings (by their keys, so a second run changes
    nothing); a comuna that is not loaded is skipped."""
    communes = {c.cut: c for c in Commune.objects.filter(cut__in={p["cut"] for p in POINTS})}
    points = {}
    for spec in POINTS:
        if spec["cut"] not in communes:
            continue
        points[spec["source_id"]], _ = ServicePoint.objects.update_or_create(
            source=SOURCE,
            source_id=spec["source_id"],
            defaults={
                "name": spec["name"],
                "kind": spec["kind"],
                "address": spec["address"],
                "commune": communes[spec["cut"]],
                "accessibility": spec["accessibility"],
                "point": Point(spec["lng"], spec["lat"], srid=STORAGE_SRID),
                "opening_hours": validate_opening_hours(spec["opening_hours"]),
            },
        )
    procedures = {}
    for spec in PROCEDURES:
        values = {key: value for key, value in spec.items() if key != "slug"}
        procedures[spec["slug"]], _ = Procedure.objects.update_or_create(slug=spec["slug"], defaults=values)
    offerings = 0
    for point_key, slug, responsible, minutes, capacity in OFFERINGS:
        if point_key in points:
            Offering.objects.update_or_create(
                service_point=points[point_key],
                procedure=procedures[slug],
                defaults={"responsible": responsible, "slot_minutes": minutes, "capacity_per_slot": capacity},
            )
            offerings += 1
    return {"points": len(points), "procedures": len(procedures), "offerings": offerings}
