"""Column mappings for the bulk importer: how a source file's columns, dates, categories, channels and
statuses translate into GeoSIAC reports. Presets for our own layout and for Los Angeles' MyLA311 extracts;
any other source is described by a JSON file with the same keys."""

import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Mapping:
    name: str
    source: str
    columns: dict[str, str]  # our field -> source column (matched case-insensitively)
    date_formats: tuple[str, ...] = ("ISO8601",)
    timezone: str = "America/Santiago"
    categories: dict[str, str] = field(default_factory=dict)  # source value -> service_code ({} = identity)
    default_category: str | None = None  # for unmapped values; None rejects them
    channels: dict[str, str] = field(default_factory=dict)
    default_channel: str = "import"
    statuses: dict[str, str] = field(default_factory=dict)
    default_status: str = "submitted"
    source_bbox: tuple[float, float, float, float] | None = None  # lon/lat box the points come from
    note: str = ""

    REQUIRED = ("latitude", "longitude", "created_at", "category")

    def __post_init__(self):
        missing = [key for key in self.REQUIRED if key not in self.columns]
        if missing:
            raise ValueError(f"La correspondencia '{self.name}' no indica las columnas: {', '.join(missing)}.")


NATIVE = Mapping(
    name="geosiac",
    source="geosiac",
    columns={
        "source_id": "source_id",
        "created_at": "created_at",
        "closed_at": "closed_at",
        "category": "service_code",
        "channel": "channel",
        "status": "status",
        "latitude": "lat",
        "longitude": "lng",
        "description": "description",
        "address": "address",
    },
    channels={c: c for c in ("web", "phone", "in_person", "open311", "email", "social", "import")},
    statuses={
        s: s
        for s in (
            "submitted",
            "acknowledged",
            "in_progress",
            "resolved",
            "closed_duplicate",
            "closed_not_municipal",
            "closed_unfixable",
        )
    },
)

LA311 = Mapping(
    name="la311",
    source="myla311",
    note=(
        "Registros reales de MyLA311 (Los Ángeles) trasladados a la comuna elegida para demostraciones: "
        "sus coordenadas se transforman linealmente desde la extensión de Los Ángeles a la de la comuna y se "
        "conservan solo los puntos que caen dentro de ella. No son reportes de la comuna."
    ),
    columns={
        "source_id": "SRNumber",
        "created_at": "CreatedDate",
        "updated_at": "UpdatedDate",
        "closed_at": "ClosedDate",
        "category": "RequestType",
        "channel": "RequestSource",
        "status": "Status",
        "latitude": "Latitude",
        "longitude": "Longitude",
        "address": "Address",
    },
    date_formats=("%m/%d/%Y %I:%M:%S %p", "%Y-%m-%d %H:%M:%S", "ISO8601"),
    categories={
        "Bulky Items": "retiro-escombros",
        "Illegal Dumping Pickup": "microbasural",
        "Metal/Household Appliances": "retiro-escombros",
        "Electronic Waste": "retiro-escombros",
        "Graffiti Removal": "grafiti",
        "Dead Animal Removal": "animales-muertos",
        "Single Streetlight Issue": "luminaria-apagada",
        "Multiple Streetlight Issue": "luminaria-apagada",
        "Homeless Encampment": "otro",
        "Feedback": "otro",
        "Other": "otro",
        "Report Water Waste": "otro",
    },
    channels={
        "Call": "phone",
        "Mobile App": "web",
        "Self Service": "web",
        "Email": "email",
        "Driver Self Report": "import",
        "Voicemail": "phone",
        "Twitter": "social",
        "Walk-in": "in_person",
        "Chat": "web",
        "Web Form": "web",
        "Council's Office": "in_person",
        "Letter": "in_person",
    },
    statuses={
        "Closed": "resolved",
        "Open": "submitted",
        "Pending": "acknowledged",
        "Forward": "acknowledged",
        "In Progress": "in_progress",
        "Cancelled": "closed_unfixable",
        "Referred Out": "closed_not_municipal",
    },
    default_status="submitted",
    # The City of Los Angeles' extent, the box the MyLA311 points come from.
    source_bbox=(-118.67, 33.70, -118.15, 34.34),
)

PRESETS = {m.name: m for m in (NATIVE, LA311)}


def load_mapping(spec: str) -> Mapping:
    """A preset name, or a JSON file with Mapping's keys."""
    if spec in PRESETS:
        return PRESETS[spec]
    path = Path(spec)
    if not path.exists():
        raise ValueError(f"'{spec}' no es una correspondencia conocida ({', '.join(PRESETS)}) ni un archivo.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"El archivo de correspondencia {path} no es JSON válido: {exc}") from exc
    known = set(Mapping.__dataclass_fields__)
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"Claves desconocidas en {path}: {', '.join(sorted(unknown))}.")
    data.setdefault("name", path.stem)
    data.setdefault("source", path.stem)
    for key in ("date_formats", "source_bbox"):
        if data.get(key) is not None:
            data[key] = tuple(data[key])
    return Mapping(**data)
