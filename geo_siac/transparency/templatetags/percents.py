"""A share as the transparency pages print it: the same rounding as the charts and the executive report."""

from django import template

from geo_siac.transparency.executive import whole_percent

register = template.Library()


@register.filter
def percent(share: float) -> int:
    """0.125 as 13 (half up, executive.whole_percent), where {% widthratio %} gives 12 (half to even)."""
    return whole_percent(share)
