from django.urls import path

from geo_siac.reports import request_views, views

app_name = "reports"
urlpatterns = [
    path("", views.home, name="home"),
    path("solicitud/", request_views.choose, name="choose"),
    path("solicitud/<slug:slug>/", request_views.request_form, name="request_form"),
    path("enviada/<str:code>/", views.submitted, name="submitted"),
    path("seguimiento/", views.tracking_lookup, name="tracking_lookup"),
    path("seguimiento/<str:code>/", views.tracking, name="tracking"),
    path("seguimiento/<str:code>/seguir/", views.follow, name="follow"),
    path("seguimiento/<str:code>/carta/<int:number>/", views.letter, name="letter"),
    path("seguimiento/<str:code>/carta/<int:number>.pdf", views.letter_pdf, name="letter_pdf"),
    path("seguimiento/<str:code>/enlace-carta/", views.letter_link, name="letter_link"),
    path("api/duplicados/", views.duplicates, name="duplicates"),
    path("api/cercanos/", views.nearby, name="nearby"),
    path("encuesta/<str:token>/", views.survey, name="survey"),
]
