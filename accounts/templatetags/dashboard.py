from django import template

from accounts.decorators import current_membership

register = template.Library()


@register.simple_tag(takes_context=True)
def dashboard_membership(context):
    """The current membership for the navigation, on any page extending base.html (billing's included)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return None
    return current_membership(request)


@register.filter
def percent(value, total):
    try:
        return round(100 * value / total) if total else 0
    except (TypeError, ValueError):
        return 0
