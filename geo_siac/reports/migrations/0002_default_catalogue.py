from django.db import migrations

# A copy of the default catalogue as this migration loads it: a migration must not change with live code
# (geo_siac/catalogue/catalogue.py is what `manage.py load_categories` loads today).
GROUPS = [
    # code, Spanish name, English name
    ("aseo-ornato", "Aseo y ornato", "Cleaning and public spaces"),
    ("medio-ambiente", "Medio ambiente", "Environment"),
    ("alumbrado", "Alumbrado público", "Street lighting"),
    ("vialidad", "Vialidad", "Roads and sidewalks"),
    ("convivencia", "Convivencia y seguridad", "Community and safety"),
    ("otros", "Otros", "Other"),
]

DMAAO = "Dirección de Medio Ambiente, Aseo y Ornato"
DOM = "Dirección de Obras Municipales"
TRANSITO = "Dirección de Tránsito y Transporte Público"
SEGURIDAD = "Dirección de Seguridad Pública"
OIRS = "Oficina de Informaciones, Reclamos y Sugerencias (OIRS)"

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


def forwards(apps, schema_editor):
    # The loader as it was when categories named their department as text; catalogue.0002 makes it a key.
    category_model, group_model = apps.get_model("reports", "Category"), apps.get_model("reports", "CategoryGroup")
    groups = {}
    for order, (code, name_es, name_en) in enumerate(GROUPS):
        groups[code], _ = group_model.objects.get_or_create(
            code=code, defaults={"name_es": name_es, "name_en": name_en, "order": order}
        )
    for code, group, name_es, name_en, desc_es, desc_en, keywords, days, department, attributes in CATEGORIES:
        category_model.objects.get_or_create(
            service_code=code,
            defaults={
                "group": groups[group],
                "name_es": name_es,
                "name_en": name_en,
                "description_es": desc_es,
                "description_en": desc_en,
                "keywords": keywords,
                "response_days": days,
                "department": department,
                "attributes": attributes,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
