from django.urls import path

from geo_siac.alerts import views

app_name = "alerts"

urlpatterns = [
    path("cuadrilla/avisos/", views.inbox_page, name="inbox"),
    path("cuadrilla/avisos/leidos/", views.mark_read, name="mark_read"),
    path("cuadrilla/plazos/", views.board, name="board"),
    path("cuadrilla/plazos/<str:code>/derivar/", views.board_reroute, name="reroute"),
    path("cuadrilla/plazos/<str:code>/prorrogar/", views.board_extend, name="extend"),
]
