from django.urls import path

from geo_siac.citizens import views

app_name = "citizens"
urlpatterns = [
    path("", views.reports, name="reports"),
    path("ingresar/", views.sign_in_request, name="sign_in_request"),
    path("entrar/<str:token>/", views.sign_in, name="sign_in"),
    path("salir/", views.sign_out, name="sign_out"),
    path("oidc/", views.oidc_start, name="oidc_start"),
    path("oidc/vuelta/", views.oidc_callback, name="oidc_callback"),
    path("solicitud/<str:code>/", views.report_detail, name="report"),
    path("solicitud/<str:code>/reabrir/", views.reopen, name="reopen"),
    path("solicitud/<str:code>/agregar/", views.add_info, name="add_info"),
    path("solicitud/<str:code>/dejar-de-seguir/", views.unfollow, name="unfollow"),
    path("preferencias/", views.preferences, name="preferences"),
    path("mis-datos.json", views.export, name="export"),
    path("borrar/", views.erase, name="erase"),
    path("reabrir/<str:token>/", views.reopen_link, name="reopen_link"),
    path("avisos/", views.area_alert, name="area_alert"),
    path("avisos/confirmar/<str:token>/", views.area_alert_confirm, name="area_alert_confirm"),
    path("avisos/baja/<str:token>/", views.area_alert_unsubscribe, name="area_alert_unsubscribe"),
]
