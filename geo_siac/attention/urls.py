from django.urls import path

from geo_siac.attention import suggestion_box, views

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
    path("atencion/buzones/", suggestion_box.boxes, name="boxes"),
    path("atencion/buzones/<int:pk>/imprimir/", suggestion_box.box_print, name="box_print"),
    # Short on purpose: the shorter the address, the fewer modules the printed QR code has.
    path("buzon/<int:pk>/", suggestion_box.box, name="box"),
]
