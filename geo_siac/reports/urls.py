from django.urls import path

from geo_siac.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.home, name="home"),
]
