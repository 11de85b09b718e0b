from django.urls import path

from geo_siac.transparency import views

app_name = "transparency"
urlpatterns = [
    path("", views.index, name="index"),
    path("mapa/", views.embed_map, name="embed_map"),
    path("celdas.geojson", views.cells, name="cells"),
    path("compromisos/", views.commitments, name="commitments"),
    path("datos/", views.open_data, name="open_data"),
    path("datos/solicitudes.csv", views.reports_csv, name="reports_csv"),
    path("datos/solicitudes.geojson", views.reports_geojson, name="reports_geojson"),
    path("datos/indicadores.csv", views.indicators_csv, name="indicators_csv"),
    path("datos/indicadores.json", views.indicators_json, name="indicators_json"),
    path("informe/", views.executive, name="executive"),
    path("ley-20285/", views.information, name="information"),
]
