from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Benchmarks (`bench_pdf`, `bench_lists`, `bench_billing`) and their sample data.

    Like `demo`, it stands above the product: it may import every app, no app imports it.
    """

    name = "bench"
