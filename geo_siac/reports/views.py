from django.shortcuts import render

from geo_siac.reports.selectors import public_categories, report_counts_by_commune
from geo_siac.zones.models import Commune


def home(request):
    return render(
        request,
        "reports/home.html",
        {
            "communes": Commune.objects.active(),
            "categories": public_categories(),
            "counts": report_counts_by_commune(),
        },
    )
