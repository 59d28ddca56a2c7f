from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data orchestration: the only app allowed to call every other app's demo seed."""

    name = "demo"
