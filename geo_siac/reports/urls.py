from django.urls import path

from geo_siac.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.home, name="home"),
    path("enviada/<str:code>/", views.submitted, name="submitted"),
    path("seguimiento/", views.tracking_lookup, name="tracking_lookup"),
    path("seguimiento/<str:code>/", views.tracking, name="tracking"),
    path("seguimiento/<str:code>/seguir/", views.follow, name="follow"),
    path("api/duplicados/", views.duplicates, name="duplicates"),
    path("api/cercanos/", views.nearby, name="nearby"),
    path("encuesta/<str:token>/", views.survey, name="survey"),
]
