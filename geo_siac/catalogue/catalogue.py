"""The default service catalogue (categories, their groups and departments), loaded by `manage.py load_categories`
(the first data migration, reports.0002, keeps its own copy of the loader and the data). Response days are business
days; municipalities adjust them in the admin."""

from functools import partial

from django.core.exceptions import ValidationError

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Category, CategoryGroup, Department
from geo_siac.catalogue.terms import check_terms

GROUPS = [
    # code, Spanish name, English name
    ("aseo-ornato", "Aseo y ornato", "Cleaning and public spaces"),
    ("medio-ambiente", "Medio ambiente", "Environment"),
    ("alumbrado", "Alumbrado público", "Street lighting"),
    ("vialidad", "Vialidad", "Roads and sidewalks"),
    ("convivencia", "Convivencia y seguridad", "Community and safety"),
    ("otros", "Otros", "Other"),
    ("atencion-ciudadana", "Atención ciudadana (OIRS)", "Citizen services (OIRS)"),
]

DMAAO = "Dirección de Medio Ambiente, Aseo y Ornato"
DOM = "Dirección de Obras Municipales"
TRANSITO = "Dirección de Tránsito y Transporte Público"
SEGURIDAD = "Dirección de Seguridad Pública"
OIRS = "Oficina de Informaciones, Reclamos y Sugerencias (OIRS)"
TRANSPARENCIA = "Unidad de Transparencia Municipal"

# service_code, group, name_es, name_en, description_es, description_en, keywords, days, department, attributes
CATEGORIES = [
    (
        "areas-verdes",
        "aseo-ornato",
        "Mantención de áreas verdes",
        "Green area maintenance",
        "Pasto crecido, riego, juegos o mobiliario de plazas en mal estado.",
        "Overgrown grass, irrigation, damaged playgrounds or park furniture.",
        "plaza,pasto,riego,parque",
        10,
        DMAAO,
        [],
    ),
    (
        "poda-arboles",
        "aseo-ornato",
        "Poda de árboles",
        "Tree pruning",
        "Árboles que requieren poda, ramas caídas o que tocan cables.",
        "Trees that need pruning, fallen branches or branches touching wires.",
        "árbol,rama,poda",
        15,
        DMAAO,
        [
            {
                "code": "riesgo",
                "datatype": "singlevaluelist",
                "required": True,
                "order": 1,
                "description": "¿La rama o el árbol representa un riesgo inmediato?",
                "datatype_description": "",
                "values": [{"key": "si", "name": "Sí"}, {"key": "no", "name": "No"}],
            }
        ],
    ),
    (
        "retiro-escombros",
        "aseo-ornato",
        "Retiro de escombros",
        "Debris removal",
        "Escombros, voluminosos o restos de construcción en la vía pública.",
        "Rubble, bulky items or construction waste on public space.",
        "escombros,voluminosos,cachureos",
        5,
        DMAAO,
        [
            {
                "code": "volumen",
                "datatype": "singlevaluelist",
                "required": False,
                "order": 1,
                "description": "Volumen aproximado",
                "datatype_description": "",
                "values": [
                    {"key": "menos-1m3", "name": "Menos de 1 m³"},
                    {"key": "1-3m3", "name": "Entre 1 y 3 m³"},
                    {"key": "mas-3m3", "name": "Más de 3 m³"},
                ],
            }
        ],
    ),
    (
        "microbasural",
        "aseo-ornato",
        "Microbasural / basura en la vía pública",
        "Illegal dumping / litter",
        "Acumulación de basura en sitios eriazos, esquinas o bandejones.",
        "Rubbish piling up on vacant lots, corners or medians.",
        "basura,microbasural,desechos",
        5,
        DMAAO,
        [],
    ),
    (
        "control-plagas",
        "medio-ambiente",
        "Control de plagas (roedores, insectos)",
        "Pest control (rodents, insects)",
        "Presencia de ratones, ratas, garrapatas, termitas u otros vectores.",
        "Mice, rats, ticks, termites or other vectors.",
        "ratones,ratas,plagas,vectores,insectos",
        10,
        DMAAO,
        [
            {
                "code": "plaga",
                "datatype": "multivaluelist",
                "required": True,
                "order": 1,
                "description": "Tipo de plaga",
                "datatype_description": "Puede elegir más de una.",
                "values": [
                    {"key": "roedores", "name": "Roedores"},
                    {"key": "insectos", "name": "Insectos"},
                    {"key": "garrapatas", "name": "Garrapatas"},
                    {"key": "otra", "name": "Otra"},
                ],
            }
        ],
    ),
    (
        "animales-muertos",
        "medio-ambiente",
        "Animales muertos en la vía pública",
        "Dead animal removal",
        "Retiro de animales muertos en calles, veredas o áreas verdes.",
        "Removal of dead animals from streets, sidewalks or parks.",
        "animal,muerto,perro,gato",
        2,
        DMAAO,
        [],
    ),
    (
        "luminaria-apagada",
        "alumbrado",
        "Luminaria apagada",
        "Streetlight out",
        "Luminaria apagada, intermitente o encendida de día.",
        "Streetlight out, flickering or on during the day.",
        "luz,luminaria,poste,alumbrado",
        5,
        DOM,
        [
            {
                "code": "numero-poste",
                "datatype": "string",
                "required": False,
                "order": 1,
                "description": "Número del poste (si es visible)",
                "datatype_description": "",
                "values": [],
            }
        ],
    ),
    (
        "bache",
        "vialidad",
        "Bache en calzada",
        "Pothole",
        "Hoyos o hundimientos en la calzada.",
        "Holes or sinking in the road surface.",
        "bache,hoyo,calzada,pavimento",
        20,
        DOM,
        [],
    ),
    (
        "vereda",
        "vialidad",
        "Vereda en mal estado",
        "Damaged sidewalk",
        "Veredas rotas, levantadas o con desniveles peligrosos.",
        "Broken or lifted sidewalks, dangerous uneven surfaces.",
        "vereda,acera,baldosa",
        20,
        DOM,
        [],
    ),
    (
        "grafiti",
        "aseo-ornato",
        "Grafiti",
        "Graffiti",
        "Rayados en muros, mobiliario o espacios públicos.",
        "Graffiti on walls, street furniture or public spaces.",
        "grafiti,rayado,pintura",
        10,
        DMAAO,
        [],
    ),
    (
        "ruidos-molestos",
        "convivencia",
        "Ruidos molestos",
        "Noise complaint",
        "Ruidos molestos reiterados de locales, obras o vecinos.",
        "Repeated noise from venues, construction works or neighbours.",
        "ruido,música,fiesta,obras",
        10,
        SEGURIDAD,
        [
            {
                "code": "horario",
                "datatype": "singlevaluelist",
                "required": False,
                "order": 1,
                "description": "¿Cuándo ocurre?",
                "datatype_description": "",
                "values": [
                    {"key": "dia", "name": "De día"},
                    {"key": "noche", "name": "De noche"},
                    {"key": "ambos", "name": "Ambos"},
                ],
            }
        ],
    ),
    (
        "otro",
        "otros",
        "Otro",
        "Other",
        "Cualquier otro problema en el espacio público de la comuna.",
        "Any other problem in the comuna's public space.",
        "otro",
        15,
        OIRS,
        [],
    ),
]

# The topics of the requests without a place (docs/request-kinds.md): kind, service_code, name_es, name_en, days,
# department. Response days are capped by each kind's legal term (kinds.response_days).
TOPICS = [
    (
        RequestKind.COMPLAINT,
        "reclamo-atencion",
        "Reclamo por la atención recibida",
        "Complaint about the service received",
        10,
        OIRS,
    ),
    (
        RequestKind.COMPLAINT,
        "reclamo-servicio",
        "Reclamo por un servicio municipal",
        "Complaint about a municipal service",
        10,
        OIRS,
    ),
    (
        RequestKind.QUERY,
        "consulta-tramites",
        "Consulta sobre trámites y beneficios",
        "Question about procedures and benefits",
        10,
        OIRS,
    ),
    (RequestKind.SUGGESTION, "sugerencia", "Sugerencia", "Suggestion", 15, OIRS),
    (RequestKind.COMPLIMENT, "felicitacion", "Felicitación", "Compliment", 15, OIRS),
    (
        RequestKind.INFORMATION,
        "acceso-informacion",
        "Acceso a información pública (Ley 20.285)",
        "Access to public information (Ley 20.285)",
        20,
        TRANSPARENCIA,
    ),
]


def load_catalogue(*, overwrite: bool = False) -> tuple[int, int]:
    """Create missing groups and categories by code, and the departments they name; with `overwrite`, also reset
    existing ones to the defaults (otherwise a municipality's edits in the admin survive a reload).
    Returns (created, updated)."""
    groups = {}
    for order, (code, name_es, name_en) in enumerate(GROUPS):
        values = {"name_es": name_es, "name_en": name_en, "order": order}
        method = CategoryGroup.objects.update_or_create if overwrite else CategoryGroup.objects.get_or_create
        groups[code], _ = method(code=code, defaults=values)
    created = updated = 0
    for code, group, name_es, name_en, desc_es, desc_en, keywords, days, department, attributes in CATEGORIES:
        refuse_invalid_terms(code, RequestKind.SERVICE_REQUEST, days, department)
        method = Category.objects.update_or_create if overwrite else Category.objects.get_or_create
        _, was_created = method(
            service_code=code,
            defaults={
                "group": groups[group],
                "name_es": name_es,
                "name_en": name_en,
                "description_es": desc_es,
                "description_en": desc_en,
                "keywords": keywords,
                "response_days": days,
                "department": partial(_department, department),
                "attributes": attributes,
            },
        )
        created += was_created
        updated += overwrite and not was_created
    for kind, code, name_es, name_en, days, department in TOPICS:
        refuse_invalid_terms(code, kind, days, department)
        method = Category.objects.update_or_create if overwrite else Category.objects.get_or_create
        _, was_created = method(
            service_code=code,
            defaults={
                "kind": kind,
                "group": groups["atencion-ciudadana"],
                "name_es": name_es,
                "name_en": name_en,
                "response_days": days,
                "department": partial(_department, department),
            },
        )
        created += was_created
        updated += overwrite and not was_created
    return created, updated


def refuse_invalid_terms(code: str, kind: str, days: int, department: str) -> None:
    """The loader writes only what the admin would save (catalogue.terms): its categories are public."""
    try:
        check_terms(
            kind=kind,
            response_days=days,
            has_department=bool(department),
            offered=True,
            offered_by=str(Category._meta.get_field("is_public").verbose_name),
        )
    except ValidationError as refused:
        raise ValidationError(f"{code}: {' '.join(refused.messages)}") from None


def _department(name: str) -> Department:
    # Called by get_or_create only for a category it writes, so a department renamed in the admin is not recreated.
    return Department.objects.get_or_create(name=name)[0]
