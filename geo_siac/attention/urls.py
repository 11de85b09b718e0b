from django.urls import path

from geo_siac.attention import views

app_name = "attention"
urlpatterns = [
    path("puntos-de-atencion/", views.points, name="points"),
    path("puntos-de-atencion/sesiones.ics", views.sessions_ics, name="sessions_ics"),
    path("puntos-de-atencion/<int:pk>/", views.point, name="point"),
    path("tramites/", views.procedures, name="procedures"),
    path("tramites/<slug:slug>/", views.procedure, name="procedure"),
    path("citas/reservar/<int:pk>/", views.book, name="book"),
    path("citas/<str:token>/", views.appointment, name="appointment"),
    path("citas/<str:token>/cancelar/", views.cancel, name="cancel"),
    path("atencion/agenda/", views.agenda, name="agenda"),
    path("atencion/citas/<int:pk>/", views.mark, name="mark"),
    path("atencion/eficiencia/", views.efficiency, name="efficiency"),
]
