from django.urls import path

from geo_siac.maps import views

app_name = "maps"
urlpatterns = [
    path("cobertura/", views.coverage_page, name="coverage"),
]
