from django.urls import path

from geo_siac.zones import views

app_name = "zones"
urlpatterns = [
    path("identidad/<slug:slug>.css", views.identity_css, name="identity_css"),
    path("identidad/logo/<path:name>", views.logo, name="logo"),
]
