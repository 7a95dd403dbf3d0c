from django.apps import AppConfig


class CampConfig(AppConfig):
    name = "mawa.camp"
