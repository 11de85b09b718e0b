from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from geo_siac.workspace.access import landing_page


@login_required
def landing(request):
    """Where a login without ?next= leads: the person's own workspace; the public site when none is theirs."""
    return redirect(landing_page(request.user) or "reports:home")
