from django.urls import path

from geo_siac.messaging import views

app_name = "messaging"

urlpatterns = [
    path("whatsapp/", views.whatsapp_webhook, name="whatsapp"),
    path("sms/", views.sms_webhook, name="sms"),
]
