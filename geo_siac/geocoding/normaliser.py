"""The words the gazetteer's normaliser (geocoding_normalise, migration 0001) drops or spells out, for the code that
must know them (selectors.NORMALISER_WORDS). The migration keeps its own frozen copy;
test_the_normaliser_words_are_what_the_database_function_drops_or_spells_out holds the two alike."""

# Abbreviations Chilean street names carry (DTPM's stops, the DEIS registry, OSM), each read as its full word; street
# types are dropped ("Av. Concha y Toro", "avenida concha y toro" and "concha y toro" read the same), and so are the
# number markers ("#1820", "N° 1820") and "esquina".
WORDS = {
    "av": "",
    "avda": "",
    "avenida": "",
    "calle": "",
    "pje": "",
    "psje": "",
    "pasaje": "",
    "esq": "",
    "esquina": "",
    "n": "",
    "nro": "",
    "num": "",
    "numero": "",
    "gral": "general",
    "alc": "alcalde",
    "sta": "santa",
    "sto": "santo",
    "sn": "san",
    "pdte": "presidente",
    "tte": "teniente",
    "cap": "capitan",
    "cdte": "comandante",
    "cmdte": "comandante",
    "cnel": "coronel",
    "sgto": "sargento",
    "dr": "doctor",
    "dra": "doctora",
    "prof": "profesor",
    "ob": "obispo",
    "mons": "monsenor",
    "pbro": "presbitero",
    "ing": "ingeniero",
    "stgo": "santiago",
    "pob": "poblacion",
    "hno": "hermano",
    "hna": "hermana",
    "gob": "gobernador",
    "cdo": "comando",
    # The registry names health centres in full or by their acronym, as people do.
    "cesfam": "centro de salud familiar",
    "cecosf": "centro comunitario de salud familiar",
}
