from django.db import models


class RateCounter(models.Model):
    """Attempts counted under one key (`submissions:<ip>`, `open311:<key id>`, `login:ip:<ip>`, ...) until
    `window_end`. The rate limits of reports, open311 and the staff login share it, so it lives in web/ with the
    other request-level concerns rather than in one of those apps. Written only by geo_siac.web.ratelimit, in one
    upsert. The table is UNLOGGED (migration 0001): a counter needs no crash safety, so it skips the WAL."""

    key = models.TextField(primary_key=True)
    window_end = models.BigIntegerField()  # Unix time in seconds; from then on the count is over
    count = models.IntegerField()
