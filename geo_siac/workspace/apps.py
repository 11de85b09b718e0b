from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "geo_siac.workspace"
    verbose_name = "Espacio de cuadrillas y consola de operación"
