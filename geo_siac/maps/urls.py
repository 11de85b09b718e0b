from django.urls import path

from geo_siac.maps import views

app_name = "maps"
urlpatterns = [
    path("mapas/cobertura/", views.coverage_page, name="coverage"),
    path("api/maps/h3/", views.h3_geojson, name="h3-geojson"),
    path("api/maps/h3.csv", views.h3_csv, name="h3-csv"),
    path("api/maps/weekly/", views.weekly_by_category, name="weekly"),
    path("mapas/calor/", views.heatmap_page, name="heatmap"),
    path("mapas/calor/mapa.html", views.heatmap_html, name="heatmap-html"),
    path("mapas/calor/mapa.png", views.heatmap_png, name="heatmap-png"),
]
