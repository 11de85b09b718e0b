from django.urls import include, path

from geo_siac.workspace import crew_views, operator_views, views

crew_patterns = (
    [
        path("", crew_views.home, name="home"),
        path("api/acciones/", crew_views.action, name="action"),
        path("manifest.webmanifest", crew_views.manifest, name="manifest"),
        path("sw.js", crew_views.service_worker, name="service_worker"),
        path("supervision/", crew_views.supervision, name="supervision"),
        path("supervision/duplicadas/", crew_views.merge, name="merge"),
        path("solicitud/<str:code>/", crew_views.report_page, name="report"),
        path("solicitud/<str:code>/estado/", crew_views.change_status, name="status"),
        path("solicitud/<str:code>/devolver/", crew_views.hand_back, name="hand_back"),
        path("solicitud/<str:code>/derivar/", crew_views.reroute, name="reroute"),
        path("solicitud/<str:code>/prorrogar/", crew_views.extend, name="extend"),
        path("solicitud/<str:code>/reclasificar/", crew_views.reclassify, name="reclassify"),
        path("solicitud/<str:code>/direccion/", crew_views.assign_department, name="assign_department"),
        path("solicitud/<str:code>/paso/<slug:step>/", crew_views.kind_step, name="kind_step"),
        path("solicitud/<str:code>/carta/<int:number>/", crew_views.letter, name="letter"),
        path("solicitud/<str:code>/carta/<int:number>.pdf", crew_views.letter_pdf, name="letter_pdf"),
    ],
    "crew",
)

operator_patterns = (
    [
        path("", operator_views.new_report, name="new"),
        path("cercanas/", operator_views.nearby, name="nearby"),
        path("registrada/<str:code>/", operator_views.filed, name="filed"),
    ],
    "operator",
)

urlpatterns = [
    path("cuenta/inicio/", views.landing, name="landing"),
    path("cuadrilla/", include(crew_patterns)),
    path("operador/", include(operator_patterns)),
]
