from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "mawa.custody"
