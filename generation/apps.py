from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"
    verbose_name = "Cover generation"

    def ready(self):
        from albumart.metrics import register

        register()  # the work's gauges and the workers' histograms on /metrics
